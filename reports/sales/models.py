"""The sales snapshot tables: daily facts the Sales and Margin reports (and the dashboard) read.

What counts as a sale (the pages say so too): an order is *booked* when it is approved (by the
checks or a reviewer) and counts from its approval day, in the company's time zone, unless it is
cancelled (rejected orders were never approved). What is later cancelled (closed short) or returned
is taken off its lines. The margin counts goods that left, on the day they shipped, at the cost the
ledger recorded for them then; returned goods are taken off on the day they came back.

The rows are derived data: rebuilt in full every night and refreshed after each event that changes
them (reports.sales.facts). The foreign keys carry no database constraint: the rows are rewritten
wholesale and must never hold up or be held up by the business tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Channel


def _dimension(model: str, verbose_name, *, null: bool = False) -> models.ForeignKey:
    return models.ForeignKey(
        model,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=null,
        blank=null,
        related_name="+",
        verbose_name=verbose_name,
    )


def _money(verbose_name) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, default=0)


class DailySalesLine(models.Model):
    """Booked order lines of one approval day, per product, customer, channel, salesperson and warehouse.

    The warehouse is the one that holds or shipped most of the line's units (its reservations);
    empty while nothing is allocated. `orders` counts the orders with such lines (an order with two
    products counts under each)."""

    day = models.DateField(_("day"))
    product = _dimension("inventory.Product", _("product"))
    customer = _dimension("customers.Customer", _("customer"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    warehouse = _dimension("inventory.Warehouse", _("warehouse"), null=True)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    quantity = models.BigIntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    tax = _money(_("tax"))
    gross = _money(_("gross amount"))

    class Meta:
        verbose_name = _("daily sales by line")
        verbose_name_plural = _("daily sales by line")
        default_permissions = ()
        indexes = [
            models.Index(fields=["day"], name="sales_line_day"),
            models.Index(fields=["salesperson", "day"], name="sales_line_salesperson_day"),
            # The refresh of one order rewrites its customer's rows of a day; the customer filter too.
            models.Index(fields=["customer", "day"], name="sales_line_customer_day"),
            models.Index(fields=["product", "day"], name="sales_line_product_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id} {self.customer_id}: {self.net}"


class DailySalesOrder(models.Model):
    """Booked orders of one approval day, per customer, channel and salesperson: the order counts
    and the amounts (the sums of the same day's DailySalesLine rows)."""

    day = models.DateField(_("day"))
    customer = _dimension("customers.Customer", _("customer"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    orders = models.PositiveIntegerField(_("orders"), default=0)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    net = _money(_("net amount"))
    tax = _money(_("tax"))
    gross = _money(_("gross amount"))

    class Meta:
        verbose_name = _("daily sales by order")
        verbose_name_plural = _("daily sales by order")
        default_permissions = ()
        indexes = [
            models.Index(fields=["day"], name="sales_order_day"),
            models.Index(fields=["salesperson", "day"], name="sales_order_salesperson_day"),
            models.Index(fields=["customer", "day"], name="sales_order_customer_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.customer_id}: {self.orders} orders, {self.net}"


class DailyMarginLine(models.Model):
    """Goods of order lines that left (or came back) on one day, per product, customer, channel,
    salesperson and the warehouse they left from: net amount of those units and their cost.

    Returned units count negative on the day they were received. `estimated_quantity` counts the
    units whose cost the ledger does not hold (shipped before it recorded costs): they are costed at
    the product's cost of today."""

    day = models.DateField(_("day"))
    product = _dimension("inventory.Product", _("product"))
    customer = _dimension("customers.Customer", _("customer"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    warehouse = _dimension("inventory.Warehouse", _("warehouse"), null=True)
    quantity = models.BigIntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    cost = _money(_("cost"))
    estimated_quantity = models.BigIntegerField(_("units at today's cost"), default=0)

    class Meta:
        verbose_name = _("daily margin by line")
        verbose_name_plural = _("daily margin by line")
        default_permissions = ()
        indexes = [
            models.Index(fields=["day"], name="margin_line_day"),
            models.Index(fields=["salesperson", "day"], name="margin_line_salesperson_day"),
            models.Index(fields=["customer", "day"], name="margin_line_customer_day"),
            models.Index(fields=["product", "day"], name="margin_line_product_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id} {self.customer_id}: {self.net} − {self.cost}"

    @property
    def margin(self):
        return self.net - self.cost
