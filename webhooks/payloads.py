"""What each event says: the subject it is about (its sequence runs per subject) and its data, built
from plain values (numbers and codes as strings, money as decimal strings, times in ISO 8601).

Order events are about the order (subject "order", its number), and so are shipments leaving and
delivery exceptions, so a receiver sees one order's events in one sequence. Invoices, payments and
stock rows have sequences of their own; an event whose subject no longer exists is not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model

from billing.models import Invoice
from billing.payments.models import Payment
from inventory.models import LowStockAlert
from logistics.models import Shipment
from orders.models import OrderEvent, OrderStatus, SalesOrder

SHIPPED_STATES = (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED)


@dataclass(frozen=True)
class Subject:
    """One thing an event is about: its kind, its business key (what receivers see) and its data."""

    type: str
    key: str
    data: dict[str, Any]
    order_id: int | None = None  # set for subjects that are orders: their events are kept in order


def plain(value: Any) -> Any:
    """A JSON value receivers can rely on: Decimal and dates as strings, no floats."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _field(obj: Model, name: str, default: Any = None) -> Any:
    """A field that exists in some versions of a model only (e.g. an order's external reference)."""
    return getattr(obj, name, default)


def order_data(order: SalesOrder) -> dict[str, Any]:
    lines = order.lines.select_related("product").order_by("position", "pk")
    data = {
        "number": order.number,
        "status": order.status,
        "channel": order.channel,
        "customer": {"code": order.customer.code, "name": order.customer.name},
        "customer_po": order.customer_po,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "tax_total": order.tax_total,
        "total": order.total,
        "requested_date": order.requested_date,
        "created_at": order.created_at,
        "lines": [
            {
                "position": line.position,
                "sku": line.product.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "line_total": line.line_total,
                "quantity_shipped": line.quantity_shipped,
                "quantity_cancelled": line.quantity_cancelled,
            }
            for line in lines
        ],
    }
    if hasattr(order, "external_ref"):
        data["external_ref"] = _field(order, "external_ref") or None
    return plain(data)


def _order(order_id: Any) -> SalesOrder | None:
    return SalesOrder.objects.select_related("customer").filter(pk=order_id).first()


def _order_subject(order: SalesOrder, **extra: Any) -> Subject:
    return Subject(type="order", key=order.number, data={**order_data(order), **plain(extra)}, order_id=order.pk)


def order_transition(payload: dict) -> list[Subject]:
    """orders.salesorder.<transition>: the order as it is, with the state the transition left it in."""
    order = _order(payload.get("id"))
    if order is None:
        return []
    subject = _order_subject(order, previous_status=payload.get("from"))
    if payload.get("to"):
        subject.data["status"] = payload["to"]
    return [subject]


def shipment_data(shipment: Shipment) -> dict[str, Any]:
    parcels = list(shipment.parcels.select_related("carrier").order_by("index"))
    return plain(
        {
            "number": shipment.number,
            "warehouse": shipment.warehouse.code,
            "carrier": {"code": shipment.carrier.code, "name": shipment.carrier.name} if shipment.carrier else None,
            "service": shipment.service,
            "shipped_at": shipment.shipped_at,
            "eta": shipment.eta,
            "parcels": [{"index": p.index, "waybill": p.waybill_number, "tracking_url": p.tracking_url} for p in parcels],
            "lines": [
                {"sku": line.product.sku, "quantity": line.quantity}
                for line in shipment.lines.select_related("product").order_by("pk")
            ],
        }
    )


def _status_after_shipment(order: SalesOrder, shipment: Shipment) -> str:
    """The order's status right after this shipment left (it may have moved on since): the transition
    its timeline recorded next to the shipment, or partially shipped when it stayed so (no transition)."""
    shipped = order.events.filter(kind=OrderEvent.Kind.SHIPPED, params__document=shipment.number).order_by("pk").first()
    following = order.events.filter(pk__gt=shipped.pk).order_by("pk").first() if shipped else None
    if following is not None and following.kind == OrderEvent.Kind.TRANSITION and following.to_state in SHIPPED_STATES:
        return following.to_state
    return OrderStatus.PARTIALLY_SHIPPED if shipped else order.status


def shipment_shipped(payload: dict) -> list[Subject]:
    """logistics.shipment.ship: order.shipped, with the shipment that left."""
    shipment = Shipment.objects.select_related("carrier", "warehouse").filter(pk=payload.get("id")).first()
    order = _order(shipment.order_id) if shipment else None
    if order is None:
        return []
    subject = _order_subject(order, shipment=shipment_data(shipment))
    subject.data["status"] = _status_after_shipment(order, shipment)
    return [subject]


def order_closed_short(payload: dict) -> list[Subject]:
    """orders.salesorder.close_short: order.shipped without a shipment (the rest was cancelled)."""
    subjects = order_transition(payload)
    for subject in subjects:
        subject.data["shipment"] = None
    return subjects


def shipment_exception(payload: dict) -> list[Subject]:
    """logistics.shipment_exception_opened: about the order, naming the shipment and the kind of problem."""
    order = _order(payload.get("order"))
    if order is None:
        return []
    problem = {"shipment": payload.get("shipment_number"), "kind": payload.get("kind")}
    return [Subject(type="order", key=order.number, data={**order_data(order), "exception": plain(problem)}, order_id=order.pk)]


def invoice_issued(payload: dict) -> list[Subject]:
    """billing.invoice.issue: the invoice's number, customer, totals, due date and the orders it bills."""
    invoice = Invoice.objects.select_related("customer").filter(pk=payload.get("id")).first()
    if invoice is None:
        return []
    orders = sorted({number for number in invoice.lines.exclude(order=None).values_list("order__number", flat=True) if number})
    data = {
        "number": invoice.number,
        "status": payload.get("to") or invoice.status,
        "customer": {"code": invoice.customer.code, "name": invoice.customer.name},
        "currency": invoice.currency,
        "total_net": invoice.total_net,
        "total_tax": invoice.total_tax,
        "total_gross": invoice.total_gross,
        "issued_at": invoice.issued_at,
        "due_date": invoice.due_date,
        "orders": orders,
    }
    return [Subject(type="invoice", key=invoice.number or str(invoice.pk), data=plain(data))]


def payment_received(payload: dict) -> list[Subject]:
    """billing.payment_received: the payment, its customer, and the invoices it was allocated to."""
    payment = Payment.objects.select_related("customer").filter(pk=payload.get("id")).first()
    if payment is None:
        return []
    data = {
        "number": payment.number,
        "customer": {"code": payment.customer.code, "name": payment.customer.name},
        "date": payment.date,
        "amount": payment.amount,
        "currency": payment.currency,
        "method": payment.method,
        "reference": payment.reference,
        "invoices": payload.get("invoices", []),
    }
    return [Subject(type="payment", key=payment.number, data=plain(data))]


def stock_low(payload: dict) -> list[Subject]:
    """inventory.low_stock: one event per alert raised, about the product in that warehouse."""
    alerts = LowStockAlert.objects.filter(pk__in=payload.get("alert_ids", [])).select_related("product", "warehouse")
    return [
        Subject(
            type="stock",
            key=f"{alert.product.sku}@{alert.warehouse.code}",
            data=plain(
                {
                    "sku": alert.product.sku,
                    "product": alert.product.name,
                    "warehouse": alert.warehouse.code,
                    "available": alert.available,
                    "safety_stock": alert.safety_stock,
                    "raised_at": alert.raised_at,
                }
            ),
        )
        for alert in alerts.order_by("pk")
    ]


BUILDERS: dict[str, Callable[[dict], list[Subject]]] = {
    "orders.salesorder.submit": order_transition,
    "orders.salesorder.pass_checks": order_transition,
    "orders.salesorder.approve": order_transition,
    "orders.salesorder.reject": order_transition,
    "orders.salesorder.cancel": order_transition,
    "orders.salesorder.deliver": order_transition,
    "orders.salesorder.close_short": order_closed_short,
    "logistics.shipment.ship": shipment_shipped,
    "logistics.shipment_exception_opened": shipment_exception,
    "billing.invoice.issue": invoice_issued,
    "billing.payment_received": payment_received,
    "inventory.low_stock": stock_low,
}
