"""Forms of the cycle reports: the per-state limits of the orders at risk, and the queue's filters."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.roles import SALES, has_role
from orders.entry.filters import salespeople
from orders.models import OrderStatus
from reports.access import salesperson_scope
from reports.forms import PeriodForm
from reports.periods import GRAINS

from .models import LIMITED_STATES, MAX_LIMIT_HOURS, RiskLimits
from .refresh import MOVING as RISK_STATES
from .risk import RiskReason

LIMIT_ERROR = _("A limit is a whole number of hours from 1 to %(max)s; leave it empty for no limit.")


class RiskLimitsForm(forms.ModelForm):
    """How many hours an order may stay in each state before the queue lists it as stuck (empty: no limit)."""

    class Meta:
        model = RiskLimits
        fields = [f"{state}_hours" for state in LIMITED_STATES]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        message = LIMIT_ERROR % {"max": MAX_LIMIT_HOURS}
        for name, model_field in ((name, RiskLimits._meta.get_field(name)) for name in self.Meta.fields):
            self.fields[name] = forms.IntegerField(
                label=model_field.verbose_name,
                help_text=model_field.help_text,
                required=False,
                min_value=1,
                max_value=MAX_LIMIT_HOURS,
                error_messages={"invalid": message, "min_value": message, "max_value": message},
                widget=forms.NumberInput(attrs={"min": "1", "max": str(MAX_LIMIT_HOURS), "step": "1"}),
            )


def _sees_everyone(user) -> bool:
    return user.has_perm("reports.view_all_figures")


def _salesperson_field():
    return forms.ModelChoiceField(
        label=_("Salesperson"), queryset=salespeople(), required=False, empty_label=_("Every salesperson")
    )


class CycleForm(PeriodForm):
    """The period (the last twelve weeks when left empty) and, for those who see everyone's figures, a salesperson."""

    grain = None  # cycle times are weekly: percentiles of weeks do not add up to months
    compare = None
    default_grain = "week"
    default_weeks = 12

    def __init__(self, data=None, *args, user, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("start") and not data.get("end"):
            today = timezone.localdate()
            data["start"] = (today - timedelta(days=today.weekday() + 7 * (self.default_weeks - 1))).isoformat()
        super().__init__(data, *args, **kwargs)
        self.user = user
        if _sees_everyone(user):
            self.fields["salesperson"] = _salesperson_field()


REVIEW_BREAKDOWNS = [("period", _("By period")), ("rule", _("By rule")), ("reviewer", _("By reviewer"))]


class ReviewForm(CycleForm):
    """The period, how its figures are grouped, and which table: by period, by rule or by reviewer."""

    grain = forms.ChoiceField(label=_("Group by"), choices=GRAINS, required=False)
    breakdown = forms.ChoiceField(label=_("Table"), choices=REVIEW_BREAKDOWNS, required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned["breakdown"] = cleaned.get("breakdown") or "period"
        return cleaned


class RiskFilterForm(forms.Form):
    """The queue's filters: reason, status, salesperson (for those who see everyone's), customer, sort."""

    reason = forms.ChoiceField(label=_("Why"), choices=[("", _("Any reason")), *RiskReason.choices], required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *[(s, OrderStatus(s).label) for s in RISK_STATES]], required=False
    )
    customer = forms.CharField(label=_("Customer"), max_length=100, required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        choices=[
            ("since", _("Longest in its state first")),
            ("requested", _("Earliest requested date first")),
            ("due", _("Earliest due date first")),
            ("-total", _("Largest total first")),
        ],
        required=False,
    )

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        if _sees_everyone(user):
            self.fields["salesperson"] = _salesperson_field()
            self.order_fields(["reason", "status", "salesperson", "customer", "sort"])

    def risk_filters(self) -> dict:
        """Keyword arguments of selectors.orders_at_risk."""
        data = self.cleaned_data
        chosen = data.get("salesperson")
        reason = data.get("reason")
        return {
            "salesperson_id": chosen.pk if chosen is not None else salesperson_scope(self.user),
            "reasons": [reason] if reason else None,
            "status": data.get("status") or "",
            "customer_text": (data.get("customer") or "").strip(),
            "ordering": data.get("sort") or "since",
        }


def own_figures_scope(user) -> int | None:
    """Whose figures an operational report shows: a salesperson their own orders', everyone else (managers,
    warehouse, reviewers: they have no orders of their own) everyone's."""
    if _sees_everyone(user) or not has_role(user, SALES):
        return None
    return salesperson_scope(user)


def figures_scope(data: dict, user) -> int | None:
    """Whose figures a cycle report shows: the salesperson chosen in its form, else own_figures_scope(user)."""
    chosen = data.get("salesperson")
    return chosen.pk if chosen is not None else own_figures_scope(user)
