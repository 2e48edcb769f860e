"""The customer report (segments, top customers, new and returning customers, complaint rates) and one
customer's relationship report for its salesperson: pages, CSV / XLSX / PDF through reports.pages."""

from __future__ import annotations

from functools import partial

from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from customers.models import Customer
from reports.pages import report_page

from . import selectors
from .forms import CustomerReportForm, RelationshipForm
from .models import Segment
from .pages import (
    VIEW_PERMISSION,
    build_customer_report,
    build_relationship,
)
from .segments import segment_badge, segment_description, segment_label


@permission_required(VIEW_PERMISSION, raise_exception=True)
def customer_report(request):
    """The customer report: managers see every customer, a salesperson their own customers."""
    form = CustomerReportForm(request.GET, user=request.user)
    return report_page(request, name="customers", title=_("Customer report"), form=form, build=build_customer_report)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def customer_relationship(request, pk: int):
    """One customer's relationship with the business, for its salesperson (and managers): orders and revenue over
    time, products bought, open orders, receivables and payment behaviour, complaints."""
    customer = get_object_or_404(Customer.objects.select_related("salesperson"), pk=pk)
    if not selectors.may_see_customer(user=request.user, customer=customer):
        raise Http404  # another salesperson's customer: as if it did not exist
    form = RelationshipForm(request.GET)
    context: dict = {"customer": customer}
    if form.is_valid() and request.GET.get("format", "html") in ("html", "pdf"):
        snapshot = selectors.customer_snapshot(customer=customer)
        context.update(
            snapshot=snapshot,
            segment_label=segment_label(snapshot.segment) if snapshot else "",
            segment_badge=segment_badge(snapshot.segment) if snapshot else "",
            segment_description=segment_description(snapshot.segment) if snapshot else "",
            open_orders=selectors.relationship_open_orders(customer=customer),
            complaints=selectors.relationship_complaints(customer=customer),
            payments=selectors.payment_behaviour(customer=customer),
            scored=snapshot is not None and snapshot.segment not in (Segment.NO_ORDERS, Segment.LOST),
        )
    return report_page(
        request,
        name=f"customer-{customer.code}",
        title=_("Relationship report: %(customer)s") % {"customer": customer.name},
        form=form,
        build=partial(build_relationship, customer=customer),
        template="reports/customer_relationship.html",
        pdf_template="documents/customer_relationship.html",
        extra_context=context,
    )
