"""The topics receivers subscribe to, and the internal outbox topics each one is made from.

order.created    the order was submitted (entered by sales or pushed by a channel): drafts are not sent
order.approved   the automatic checks passed, or a reviewer approved it
order.rejected   a reviewer rejected it
order.shipped    a shipment of the order left the warehouse (data.shipment), or the rest of a partly
                 shipped order was closed short (data.shipment is null); data.status says whether the
                 order is now partially_shipped or shipped
order.delivered  every shipment of the order was delivered
order.cancelled  the order was cancelled before anything shipped
invoice.issued   an invoice was issued (numbered)
payment.received a payment was recorded
shipment.exception a delivery problem was opened on a shipment (late, lost, damaged, refused)
stock.low        free stock of a product in a warehouse fell below its safety stock
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

TOPIC_CHOICES = [
    ("order.created", _("Order created")),
    ("order.approved", _("Order approved")),
    ("order.rejected", _("Order rejected")),
    ("order.shipped", _("Order shipped")),
    ("order.delivered", _("Order delivered")),
    ("order.cancelled", _("Order cancelled")),
    ("invoice.issued", _("Invoice issued")),
    ("payment.received", _("Payment received")),
    ("shipment.exception", _("Shipment exception")),
    ("stock.low", _("Stock low")),
]
TOPICS = [topic for topic, _label in TOPIC_CHOICES]

# Internal outbox topic -> the public topic it becomes. settings.OUTBOX_HANDLERS subscribes
# webhooks.handlers.record_event to each of these (a test keeps the two lists equal).
INTERNAL_TOPICS = {
    "orders.salesorder.submit": "order.created",
    "orders.salesorder.pass_checks": "order.approved",
    "orders.salesorder.approve": "order.approved",
    "orders.salesorder.reject": "order.rejected",
    "logistics.shipment.ship": "order.shipped",
    "orders.salesorder.close_short": "order.shipped",
    "orders.salesorder.deliver": "order.delivered",
    "orders.salesorder.cancel": "order.cancelled",
    "billing.invoice.issue": "invoice.issued",
    "billing.payment_received": "payment.received",
    "logistics.shipment_exception_opened": "shipment.exception",
    "inventory.low_stock": "stock.low",
}
