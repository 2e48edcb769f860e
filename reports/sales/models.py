"""The sales snapshot tables: the facts the Sales and Margin reports (and the dashboard) read.

What counts as a sale (the pages say so too): an order is *booked* when it is approved (by the
checks or a reviewer) and counts from its approval day, in the company's time zone, unless it is
cancelled (rejected orders were never approved). What is later cancelled (closed short) or returned
is taken off its lines. The margin counts goods that left, on the day they shipped, at the cost the
ledger recorded for them then; returned goods are taken off on the day they came back.

Two kinds of table, all derived data (reports.sales.facts rebuilds them every night and refreshes an
order's rows after each event that changes them):
- facts at the grain of the business rows: one row per booked order line, per booked order, per
  shipped (or returned) line; each carries its day and every dimension a report groups by;
- rollups of those facts, small enough for a year of figures to be summed at once: per day, channel
  and salesperson; per month and product (and warehouse); per month and customer.

The foreign keys carry no database constraint and no index of their own (the tables are derived and
patched in bulk; the composite indexes below are the ones the reports and the refresh use).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Channel


def _dimension(model: str, verbose_name, *, null: bool = False, primary_key: bool = False):
    field = models.OneToOneField if primary_key else models.ForeignKey
    return field(
        model,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=null,
        blank=null,
        primary_key=primary_key,
        related_name="+",
        verbose_name=verbose_name,
    )


def _money(verbose_name) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, default=0)


def _channel() -> models.CharField:
    return models.CharField(_("channel"), max_length=20, choices=Channel.choices)


# --- facts ---------------------------------------------------------------------------------------------


class SalesLineFact(models.Model):
    """One order line of a booked order: its kept units (ordered less cancelled less returned) and their
    amounts, on the order's approval day. The warehouse is the one that holds or shipped most of the
    line's units (its reservations); empty while nothing is allocated."""

    line = _dimension("orders.SalesOrderLine", _("order line"), primary_key=True)
    order = _dimension("orders.SalesOrder", _("order"))
    day = models.DateField(_("day"))
    product = _dimension("inventory.Product", _("product"))
    customer = _dimension("customers.Customer", _("customer"))
    channel = _channel()
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    warehouse = _dimension("inventory.Warehouse", _("warehouse"), null=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    tax = _money(_("tax"))

    class Meta:
        verbose_name = _("sales line fact")
        verbose_name_plural = _("sales line facts")
        default_permissions = ()
        indexes = [
            models.Index(fields=["order"], name="sales_line_fact_order"),
            models.Index(fields=["day"], name="sales_line_fact_day"),
            models.Index(fields=["salesperson", "day"], name="sales_line_fact_seller_day"),
            models.Index(fields=["product", "day"], name="sales_line_fact_product_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} line {self.line_id}: {self.net}"


class SalesOrderFact(models.Model):
    """One booked order on its approval day: its lines with kept units and their amounts (the sums of its SalesLineFact rows)."""

    order = _dimension("orders.SalesOrder", _("order"), primary_key=True)
    day = models.DateField(_("day"))
    customer = _dimension("customers.Customer", _("customer"))
    channel = _channel()
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    lines = models.PositiveIntegerField(_("lines"), default=0)
    net = _money(_("net amount"))
    tax = _money(_("tax"))

    class Meta:
        verbose_name = _("sales order fact")
        verbose_name_plural = _("sales order facts")
        default_permissions = ()
        indexes = [
            models.Index(fields=["day"], name="sales_order_fact_day"),
            models.Index(fields=["salesperson", "day"], name="sales_order_fact_seller_day"),
            models.Index(fields=["customer", "day"], name="sales_order_fact_customer_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} order {self.order_id}: {self.net}"


class MarginLineFact(models.Model):
    """Units of one order line that left with one of the order's own shipments (on the day it shipped),
    or came back with a return (negative, on the day it was received): their net amount and cost.
    `estimated_quantity` counts units whose cost the ledger does not hold (shipped before it recorded
    costs): they are costed at the product's cost of today."""

    order = _dimension("orders.SalesOrder", _("order"))
    day = models.DateField(_("day"))
    product = _dimension("inventory.Product", _("product"))
    customer = _dimension("customers.Customer", _("customer"))
    channel = _channel()
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    warehouse = _dimension("inventory.Warehouse", _("warehouse"), null=True)
    quantity = models.IntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    cost = _money(_("cost"))
    estimated_quantity = models.IntegerField(_("units at today's cost"), default=0)

    class Meta:
        verbose_name = _("margin line fact")
        verbose_name_plural = _("margin line facts")
        default_permissions = ()
        indexes = [
            models.Index(fields=["order"], name="margin_line_fact_order"),
            models.Index(fields=["day"], name="margin_line_fact_day"),
            models.Index(fields=["salesperson", "day"], name="margin_line_fact_seller_day"),
            models.Index(fields=["product", "day"], name="margin_line_fact_product_day"),
            models.Index(fields=["customer", "day"], name="margin_line_fact_customer_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} order {self.order_id}: {self.net} − {self.cost}"


# --- rollups -------------------------------------------------------------------------------------------


class SalesTotals(models.Model):
    """Booked sales of one day, channel and salesperson."""

    day = models.DateField(_("day"))
    channel = _channel()
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    orders = models.PositiveIntegerField(_("orders"), default=0)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    net = _money(_("net amount"))
    tax = _money(_("tax"))

    class Meta:
        verbose_name = _("daily sales totals")
        verbose_name_plural = _("daily sales totals")
        default_permissions = ()
        indexes = [
            models.Index(fields=["day"], name="sales_totals_day"),
            models.Index(fields=["salesperson", "day"], name="sales_totals_seller_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.salesperson_id}: {self.net}"


class SalesByProduct(models.Model):
    """Booked sales of one month, product and warehouse; `orders` counts the orders with the product."""

    month = models.DateField(_("month"))
    product = _dimension("inventory.Product", _("product"))
    warehouse = _dimension("inventory.Warehouse", _("warehouse"), null=True)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    quantity = models.BigIntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    tax = _money(_("tax"))

    class Meta:
        verbose_name = _("monthly sales by product")
        verbose_name_plural = _("monthly sales by product")
        default_permissions = ()
        indexes = [models.Index(fields=["month", "product"], name="sales_by_product_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} product {self.product_id}: {self.net}"


class SalesByCustomer(models.Model):
    """Booked sales of one month and customer."""

    month = models.DateField(_("month"))
    customer = _dimension("customers.Customer", _("customer"))
    orders = models.PositiveIntegerField(_("orders"), default=0)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    net = _money(_("net amount"))
    tax = _money(_("tax"))

    class Meta:
        verbose_name = _("monthly sales by customer")
        verbose_name_plural = _("monthly sales by customer")
        default_permissions = ()
        indexes = [models.Index(fields=["month", "customer"], name="sales_by_customer_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} customer {self.customer_id}: {self.net}"


class MarginTotals(models.Model):
    """Goods shipped (less returned) on one day, per channel and salesperson: net amount and cost."""

    day = models.DateField(_("day"))
    channel = _channel()
    salesperson = _dimension(settings.AUTH_USER_MODEL, _("salesperson"))
    quantity = models.BigIntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    cost = _money(_("cost"))
    estimated_quantity = models.BigIntegerField(_("units at today's cost"), default=0)

    class Meta:
        verbose_name = _("daily margin totals")
        verbose_name_plural = _("daily margin totals")
        default_permissions = ()
        indexes = [
            models.Index(fields=["day"], name="margin_totals_day"),
            models.Index(fields=["salesperson", "day"], name="margin_totals_seller_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.salesperson_id}: {self.net} − {self.cost}"


class MarginByProduct(models.Model):
    """Goods shipped (less returned) in one month, per product and warehouse: net amount and cost."""

    month = models.DateField(_("month"))
    product = _dimension("inventory.Product", _("product"))
    warehouse = _dimension("inventory.Warehouse", _("warehouse"), null=True)
    quantity = models.BigIntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    cost = _money(_("cost"))
    estimated_quantity = models.BigIntegerField(_("units at today's cost"), default=0)

    class Meta:
        verbose_name = _("monthly margin by product")
        verbose_name_plural = _("monthly margin by product")
        default_permissions = ()
        indexes = [models.Index(fields=["month", "product"], name="margin_by_product_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} product {self.product_id}: {self.net} − {self.cost}"


class MarginByCustomer(models.Model):
    """Goods shipped (less returned) in one month, per customer: net amount and cost."""

    month = models.DateField(_("month"))
    customer = _dimension("customers.Customer", _("customer"))
    quantity = models.BigIntegerField(_("quantity"), default=0)
    net = _money(_("net amount"))
    cost = _money(_("cost"))
    estimated_quantity = models.BigIntegerField(_("units at today's cost"), default=0)

    class Meta:
        verbose_name = _("monthly margin by customer")
        verbose_name_plural = _("monthly margin by customer")
        default_permissions = ()
        indexes = [models.Index(fields=["month", "customer"], name="margin_by_customer_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} customer {self.customer_id}: {self.net} − {self.cost}"


FACTS = [SalesLineFact, SalesOrderFact, MarginLineFact]
ROLLUPS = [SalesTotals, SalesByProduct, SalesByCustomer, MarginTotals, MarginByProduct, MarginByCustomer]
