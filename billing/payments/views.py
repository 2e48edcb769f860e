"""Finance pages of payments and refunds: lists with export, record a payment, the payment with its
allocations (allocate, undo, write off, void, the acceptance bill's steps), refunds to pay. Each
view checks the permission, parses, calls one service and redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.payments import services
from billing.payments.exports import FORMATS, payments_export
from billing.payments.forms import (
    AllocateForm,
    CollectForm,
    DiscountForm,
    EndorseForm,
    InvoiceWriteOffForm,
    PaymentFilter,
    PaymentForm,
    RefundCancelForm,
    RefundFilter,
    RefundForm,
    RefundPayForm,
    VoidForm,
    WriteOffForm,
)
from billing.payments.models import (
    ALLOCATE_PERMISSION,
    BILL_PERMISSION,
    PAY_REFUND_PERMISSION,
    RECORD_PERMISSION,
    REFUND_PERMISSION,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentRecordState,
    Refund,
    RefundState,
    WriteOff,
)
from billing.payments.selectors import (
    oldest_first,
    open_invoices,
    payments_visible_to,
    refundable_credit_notes,
    refunds_visible_to,
    with_rest,
)
from config.errors import DomainError, form_error_from
from config.pagination import CappedPaginator
from config.submissions import submission_form_valid, submitted_once
from config.transitions import allowed_transitions
from customers.models import Customer

VIEW_PERMISSION = "billing.view_payment"
VIEW_REFUND_PERMISSION = "billing.view_refund"
PAGE_SIZE = 25
BILL_ACTIONS = {"endorse": EndorseForm, "discount": DiscountForm, "collect": CollectForm}


def _id(value) -> int | None:
    """A row id from a query parameter (None for anything else, huge numbers included)."""
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) < 19 else None


# --- payments ------------------------------------------------------------------------------------------


def _payment_filter(request) -> PaymentFilter:
    return PaymentFilter(request.GET or None, queryset=payments_visible_to(request.user).order_by("-date", "-pk"))


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def payment_list(request):
    """Payments, newest first, filtered by method, customer, date and what is left to allocate."""
    filterset = _payment_filter(request)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/payment_list.html", {"filter": filterset, "page_obj": page})


@require_GET
@permission_required("billing.export_payment", raise_exception=True)
def payment_export(request):
    """The filtered list as CSV (streamed) or XLSX."""
    export_format = request.GET.get("format", "csv")
    if export_format not in FORMATS:
        return JsonResponse({"error": _("Unknown export format; use csv or xlsx.")}, status=400)
    filterset = _payment_filter(request)
    if filterset.is_bound and not filterset.is_valid():
        return JsonResponse({"error": _("Correct the filters first."), "fields": filterset.errors.get_json_data()}, status=400)
    return payments_export(filterset.qs, export_format)


@permission_required(RECORD_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.payment_record", form=True)
def payment_create(request):
    """Record money received; by default it pays the customer's oldest open invoices and the rest stays an advance."""
    if request.method == "POST":
        form = PaymentForm(request.POST)
        if submission_form_valid(request, form):
            data = form.cleaned_data
            customer = data["customer"]
            allocations = (
                oldest_first(invoices=open_invoices(customer=customer), amount=data["amount"]) if data["allocate_oldest"] else []
            )
            bill = None
            if data["method"] == PaymentMethod.ACCEPTANCE_BILL:
                bill = services.BillDetails(
                    drawer=data["bill_drawer"],
                    number=data["bill_number"],
                    maturity_date=data["bill_maturity_date"],
                    acceptor=data["bill_acceptor"],
                )
            try:
                payment = services.payment_record(
                    customer=customer,
                    amount=data["amount"],
                    date=data["date"],
                    method=data["method"],
                    by=request.user,
                    payer_name=data["payer_name"],
                    payer_account=data["payer_account"],
                    reference=data["reference"],
                    bill=bill,
                    note=data["note"],
                    allocations=allocations,
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(
                    request,
                    _("Payment %(number)s of %(amount)s recorded.") % {"number": payment.number, "amount": payment.amount},
                )
                return redirect(payment)
        return render(request, "billing/payment_form.html", {"form": form}, status=422)
    customer = Customer.objects.filter(code__iexact=request.GET.get("customer", "")).first()
    initial = {"date": timezone.localdate(), "customer": customer.code if customer else ""}
    if customer:
        initial["payer_name"] = customer.name
    return render(request, "billing/payment_form.html", {"form": PaymentForm(initial=initial)})


def _visible_payment(request, pk: int) -> Payment:
    return get_object_or_404(payments_visible_to(request.user).select_related("created_by"), pk=pk)


def _render_detail(
    request,
    payment: Payment,
    *,
    allocate_form=None,
    write_off_form=None,
    invoice_write_off_form=None,
    bill_forms=None,
    status=200,
):
    user = request.user
    recorded = payment.state == PaymentRecordState.RECORDED
    may_allocate = user.has_perm(ALLOCATE_PERMISSION) and recorded
    invoices = open_invoices(customer=payment.customer) if may_allocate else []
    small = [invoice for invoice in invoices if invoice.open_amount <= services.write_off_limit()]
    if may_allocate and payment.unallocated > 0 and invoices and allocate_form is None:
        allocate_form = AllocateForm(invoices=invoices, rest=payment.unallocated)
    if may_allocate and 0 < payment.unallocated <= services.write_off_limit() and write_off_form is None:
        write_off_form = WriteOffForm(initial={"amount": payment.unallocated, "reason": "rounding"})
    if may_allocate and small and invoice_write_off_form is None:
        invoice_write_off_form = InvoiceWriteOffForm(invoices=small, initial={"amount": small[0].open_amount})
    allowed = allowed_transitions(payment, user, ["void", *BILL_ACTIONS])
    today = timezone.localdate()
    bill_forms = bill_forms or {
        name: form_class(initial={"on": today}, prefix=name) for name, form_class in BILL_ACTIONS.items() if name in allowed
    }
    context = {
        "payment": payment,
        "allocations": list(payment.allocations.select_related("invoice", "created_by", "reversed_by").order_by("pk")),
        "write_offs": list(WriteOff.objects.filter(payment=payment).order_by("pk")),
        "refunds": list(payment.refunds.order_by("pk")),
        "events": list(payment.events.select_related("by")),
        "allocate_form": allocate_form,
        "write_off_form": write_off_form,
        "invoice_write_off_form": invoice_write_off_form,
        "invoice_write_offs": list(
            WriteOff.objects.filter(customer=payment.customer, invoice__isnull=False)
            .select_related("invoice")
            .order_by("-pk")[:10]
        ),
        "bill_forms": bill_forms,
        "allowed": allowed,
        "may_allocate": may_allocate,
        "may_refund": user.has_perm(REFUND_PERMISSION) and recorded and payment.unallocated > 0,
    }
    return render(request, "billing/payment_detail.html", context, status=status)


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def payment_detail(request, pk: int):
    """The payment: what it paid, what is left (the customer's advance), the bill's state and the history."""
    return _render_detail(request, _visible_payment(request, pk))


@require_POST
@permission_required(ALLOCATE_PERMISSION, raise_exception=True)
@submitted_once("billing.payment_allocate", form=True)
def payment_allocate(request, pk: int):
    payment = _visible_payment(request, pk)
    form = AllocateForm(request.POST, invoices=open_invoices(customer=payment.customer), rest=payment.unallocated)
    if submission_form_valid(request, form):
        try:
            rows = services.payment_allocate(payment=payment, allocations=form.allocations(), by=request.user)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                ngettext("Allocated to %(count)s invoice.", "Allocated to %(count)s invoices.", len(rows)) % {"count": len(rows)},
            )
            return redirect(payment)
    return _render_detail(request, _visible_payment(request, pk), allocate_form=form, status=422)


@permission_required(ALLOCATE_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def allocation_undo(request, pk: int):
    """Confirm, then undo an allocation: the invoice is open again by its amount, the payment has it free."""
    allocation = get_object_or_404(
        PaymentAllocation.objects.select_related("payment__customer", "invoice").filter(
            payment__in=payments_visible_to(request.user)
        ),
        pk=pk,
    )
    if request.method == "POST":
        try:
            services.allocation_undo(allocation=allocation, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("The allocation of %(amount)s to %(invoice)s is undone.")
                % {"amount": allocation.amount, "invoice": allocation.invoice.number},
            )
        return redirect(allocation.payment)
    return render(request, "billing/allocation_undo.html", {"allocation": allocation})


@require_POST
@permission_required(ALLOCATE_PERMISSION, raise_exception=True)
@submitted_once("billing.payment_write_off", form=True)
def payment_write_off(request, pk: int):
    """Write off the small rest of a payment (the customer paid a little more)."""
    payment = _visible_payment(request, pk)
    form = WriteOffForm(request.POST)
    if submission_form_valid(request, form):
        data = form.cleaned_data
        try:
            services.payment_write_off(
                payment=payment, amount=data["amount"], reason=data["reason"], note=data["note"], by=request.user
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("%(amount)s written off.") % {"amount": data["amount"]})
            return redirect(payment)
    return _render_detail(request, _visible_payment(request, pk), write_off_form=form, status=422)


@require_POST
@permission_required(ALLOCATE_PERMISSION, raise_exception=True)
@submitted_once("billing.invoice_write_off", form=True)
def invoice_write_off(request, pk: int):
    """Write off what one of the customer's invoices still lacks (the customer paid a little short)."""
    payment = _visible_payment(request, pk)
    small = [i for i in open_invoices(customer=payment.customer) if i.open_amount <= services.write_off_limit()]
    form = InvoiceWriteOffForm(request.POST, invoices=small)
    if submission_form_valid(request, form):
        data = form.cleaned_data
        try:
            services.invoice_write_off(
                invoice=form.chosen_invoice(), amount=data["amount"], reason=data["reason"], note=data["note"], by=request.user
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("%(amount)s written off.") % {"amount": data["amount"]})
            return redirect(payment)
    return _render_detail(request, _visible_payment(request, pk), invoice_write_off_form=form, status=422)


@permission_required(ALLOCATE_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def write_off_undo(request, pk: int):
    """Confirm, then undo a write-off."""
    write_off = get_object_or_404(
        WriteOff.objects.select_related("invoice", "payment").filter(
            customer__in=payments_visible_to(request.user).values("customer")
        ),
        pk=pk,
    )
    came_from = _id(request.GET.get("payment") or request.POST.get("payment"))
    back = write_off.payment or payments_visible_to(request.user).filter(pk=came_from).first()
    if request.method == "POST":
        try:
            services.write_off_undo(write_off=write_off, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The write-off of %(amount)s is undone.") % {"amount": write_off.amount})
        return redirect(back or "billing:payment_list")
    return render(request, "billing/write_off_undo.html", {"write_off": write_off, "back": back})


@permission_required("billing.void_payment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def payment_void(request, pk: int):
    """Confirm with a reason, then void a payment recorded by mistake (its allocations are undone first)."""
    payment = _visible_payment(request, pk)
    form = VoidForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_void(payment=payment, note=form.cleaned_data["note"], by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Payment %(number)s is void.") % {"number": payment.number})
        return redirect(payment)
    return render(request, "billing/payment_void.html", {"payment": payment, "form": form}, status=422 if form.errors else 200)


@require_POST
@permission_required(BILL_PERMISSION, raise_exception=True)
def bill_action(request, pk: int, action: str):
    """Endorse, discount or collect a held acceptance bill."""
    if action not in BILL_ACTIONS:
        raise Http404
    payment = _visible_payment(request, pk)
    form = BILL_ACTIONS[action](request.POST, prefix=action)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "endorse":
                services.bill_endorse(payment=payment, endorsee=data["endorsee"], on=data["on"], by=request.user)
            elif action == "discount":
                services.bill_discount(payment=payment, fee=data["fee"], on=data["on"], by=request.user)
            else:
                services.bill_collect(payment=payment, on=data["on"], by=request.user)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Bill %(number)s updated.") % {"number": payment.bill_number})
            return redirect(payment)
    return _render_detail(request, _visible_payment(request, pk), bill_forms={action: form}, status=422)


# --- refunds ---------------------------------------------------------------------------------------------


@require_GET
@permission_required(VIEW_REFUND_PERMISSION, raise_exception=True)
def refund_list(request):
    """Refunds, newest first; "to pay" is finance's queue."""
    filterset = RefundFilter(request.GET or None, queryset=refunds_visible_to(request.user).order_by("-created_at", "-pk"))
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/refund_list.html", {"filter": filterset, "page_obj": page})


def _visible_refund(request, pk: int) -> Refund:
    return get_object_or_404(refunds_visible_to(request.user).select_related("created_by"), pk=pk)


@permission_required(REFUND_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
@submitted_once("billing.refund_request", form=True)
def refund_create(request):
    """Pay money back against one of the customer's credits (an advance or a credit note), never more than it."""
    source = request.POST if request.method == "POST" else request.GET
    payment = payments_visible_to(request.user).filter(pk=_id(source.get("payment"))).first()
    customer = payment.customer if payment else Customer.objects.filter(code__iexact=source.get("customer", "")).first()
    if customer is None:
        messages.error(request, _("Open the refund from a payment or a customer."))
        return redirect("billing:refund_list")
    advances = list(with_rest(Payment.objects.filter(customer=customer)).order_by("date", "pk"))
    credit_notes = refundable_credit_notes(customer=customer)
    form_kwargs = {"advances": advances, "credit_notes": credit_notes}
    if request.method == "POST":
        form = RefundForm(request.POST, **form_kwargs)
        if submission_form_valid(request, form):
            data = form.cleaned_data
            try:
                refund = services.refund_request(
                    amount=data["amount"],
                    method=data["method"],
                    payee_name=data["payee_name"],
                    payee_account=data["payee_account"],
                    reason=data["reason"],
                    by=request.user,
                    **form.target(),
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, _("Refund %(number)s waits to be paid.") % {"number": refund.number})
                return redirect(refund)
        status = 422
    else:
        initial = {"payee_name": customer.name}
        if payment is not None:
            initial.update(
                {"source": f"payment:{payment.pk}", "payee_account": payment.payer_account, "amount": payment.unallocated}
            )
        form = RefundForm(initial=initial, **form_kwargs)
        status = 200
    context = {"form": form, "customer": customer, "payment": payment, "nothing_to_refund": not advances and not credit_notes}
    return render(request, "billing/refund_form.html", context, status=status)


def _render_refund(request, refund: Refund, *, pay_form=None, status=200):
    allowed = allowed_transitions(refund, request.user, ["pay", "cancel"])
    if "pay" in allowed and pay_form is None:
        pay_form = RefundPayForm(initial={"paid_on": timezone.localdate(), "method": refund.method})
    context = {"refund": refund, "events": list(refund.events.select_related("by")), "allowed": allowed, "pay_form": pay_form}
    return render(request, "billing/refund_detail.html", context, status=status)


@require_GET
@permission_required(VIEW_REFUND_PERMISSION, raise_exception=True)
def refund_detail(request, pk: int):
    return _render_refund(request, _visible_refund(request, pk))


@require_POST
@permission_required(PAY_REFUND_PERMISSION, raise_exception=True)
def refund_pay(request, pk: int):
    """The money went out: date and reference are recorded; the refund leaves the queue."""
    refund = _visible_refund(request, pk)
    form = RefundPayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.refund_pay(
                refund=refund, reference=data["reference"], paid_on=data["paid_on"], method=data["method"], by=request.user
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Refund %(number)s is paid.") % {"number": refund.number})
            return redirect(refund)
    return _render_refund(request, _visible_refund(request, pk), pay_form=form, status=422)


@permission_required(REFUND_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def refund_cancel(request, pk: int):
    """Confirm, then withdraw a refund not paid yet: the customer's credit is free again."""
    refund = _visible_refund(request, pk)
    if refund.state != RefundState.TO_PAY:
        messages.error(request, _("Only a refund still to pay can be cancelled."))
        return redirect(refund)
    form = RefundCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.refund_cancel(refund=refund, note=form.cleaned_data["note"], by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Refund %(number)s is cancelled.") % {"number": refund.number})
        return redirect(refund)
    return render(request, "billing/refund_cancel.html", {"refund": refund, "form": form})
