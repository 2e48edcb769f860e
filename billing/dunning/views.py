"""Finance's dunning pages: the reminders sent, one reminder, the levels (days, letter, credit hold),
and releasing a customer's credit hold by hand. Each view parses, calls one service, redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.dunning import services
from billing.dunning.forms import DunningLevelForm, ReleaseHoldForm, ReminderFilterForm
from billing.dunning.models import CreditHold, DunningLevel, PaymentReminder
from billing.dunning.selectors import active_holds, dunning_levels, reminder_list
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator

PAGE_SIZE = 25


@permission_required("billing.view_paymentreminder", raise_exception=True)
def reminder_list_view(request):
    """Reminders sent, newest first, filtered by letter, customer and whether they were e-mailed; the customers on credit hold."""
    form = ReminderFilterForm(request.GET)
    page = CappedPaginator(reminder_list(**form.values()), PAGE_SIZE).get_page(request.GET.get("page"))
    holds = list(active_holds()[:50]) if request.user.has_perm("billing.view_credithold") else []
    return render(request, "billing/reminder_list.html", {"filter": {"form": form}, "page_obj": page, "holds": holds})


@permission_required("billing.view_paymentreminder", raise_exception=True)
def reminder_detail(request, pk: int):
    """One reminder: the customer, the letter, the invoices it named and whether it was e-mailed."""
    reminder = get_object_or_404(PaymentReminder.objects.select_related("customer", "level"), pk=pk)
    lines = list(reminder.lines.select_related("invoice").order_by("due_date", "pk"))
    hold = reminder.holds.first()
    return render(request, "billing/reminder_detail.html", {"reminder": reminder, "lines": lines, "hold": hold})


@permission_required("billing.view_dunninglevel", raise_exception=True)
def dunning_level_list(request):
    """The dunning levels: when each letter goes out and which one puts the customer on credit hold."""
    return render(request, "billing/dunning_levels.html", {"levels": dunning_levels()})


@permission_required("billing.change_dunninglevel", raise_exception=True)
@require_http_methods(["GET", "POST"])
def dunning_level_edit(request, pk: int):
    """Change a level's days after the due date, its credit hold switch, or switch it off."""
    level = get_object_or_404(DunningLevel, pk=pk)
    form = DunningLevelForm(request.POST if request.method == "POST" else None, instance=level)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.dunning_level_update(level=level, data=form.cleaned_data, by=request.user)
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Dunning level saved; the next daily run uses it."))
                return redirect("billing:dunning_levels")
        status = 422
    level.refresh_from_db()
    return render(request, "billing/dunning_level_form.html", {"level": level, "form": form}, status=status)


@permission_required("billing.release_credithold", raise_exception=True)
@require_http_methods(["GET", "POST"])
def credit_hold_release(request, pk: int):
    """Confirm, then lift a customer's credit hold by hand, saying why."""
    hold = get_object_or_404(CreditHold.objects.select_related("customer", "level"), pk=pk)
    form = ReleaseHoldForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.credit_hold_release(hold=hold, note=form.cleaned_data["note"], by=request.user)
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("%(customer)s is no longer on credit hold.") % {"customer": hold.customer.name})
                return redirect("billing:reminder_list")
        status = 422
    return render(request, "billing/credit_hold_release.html", {"hold": hold, "form": form}, status=status)
