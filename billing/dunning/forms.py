"""Forms of the dunning pages: the reminders list's filters, a level's settings, releasing a hold."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.dunning.models import DunningLevel, LetterKind
from billing.dunning.services import NOTE_MAX


class ReminderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer name or code")}),
    )
    kind = forms.ChoiceField(label=_("Letter"), required=False, choices=[("", _("Any letter")), *LetterKind.choices])
    emailed = forms.ChoiceField(label=_("E-mailed"), required=False, choices=[("", _("Any")), ("yes", _("Yes")), ("no", _("No"))])

    def values(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {"search": data.get("q") or "", "kind": data.get("kind") or "", "emailed": data.get("emailed") or ""}


class DunningLevelForm(forms.ModelForm):
    class Meta:
        model = DunningLevel
        fields = ["days_after_due", "credit_hold", "active"]
        widgets = {"days_after_due": forms.NumberInput(attrs={"min": "1", "max": "3650"})}


class ReleaseHoldForm(forms.Form):
    note = forms.CharField(label=_("Why"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}))
