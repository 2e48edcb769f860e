"""The daily stock snapshot: per product × warehouse × day, what was on hand, reserved and its value
at cost, built from the append-only stock ledger (inventory.StockMovement).

A row exists only for a day on which something changed (a movement, or a change of reserved stock
seen by a refresh); a day without a row carries the previous row's levels. Each row also carries
running integrals up to the day before it ("unit-days", "value-days", days out of stock, units and
cost shipped), so any period's average stock, turnover and days out of stock are two index
look-ups per product (the rows at the period's two ends), whatever the length of the history.

Derived data, rebuilt from the ledger: the foreign keys carry no database constraint, so writing a
day's rows checks nothing row by row. `warehouse` NULL is the product across every warehouse (its
stock-outs are not the sum of the warehouses' ones). `StockTotalDay` holds the same levels summed
per warehouse (and NULL: all), for the charts over time.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["StockDay", "StockTotalDay"]

MONEY = {"max_digits": 16, "decimal_places": 2}
# Value × days over two years of a large warehouse.
INTEGRAL = {"max_digits": 22, "decimal_places": 2}


class StockDay(models.Model):
    """One product in one warehouse (or, warehouse empty, in all of them) at the end of one day on which it changed."""

    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product"),
        db_index=False,
        db_constraint=False,
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField(_("day"))
    on_hand = models.IntegerField(_("on hand"))
    reserved = models.IntegerField(_("reserved"), default=0)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2)
    value = models.DecimalField(_("value at cost"), **MONEY)
    # The previous row's figures (the opening of this day); NULL on the key's first day in the ledger.
    opening_on_hand = models.IntegerField(_("opening on hand"), null=True, blank=True)
    opening_reserved = models.IntegerField(_("opening reserved"), null=True, blank=True)
    opening_value = models.DecimalField(_("opening value"), null=True, blank=True, **MONEY)
    shipped = models.IntegerField(_("units shipped"), default=0)
    shipped_value = models.DecimalField(_("cost of units shipped"), default=0, **MONEY)
    last_shipped_on = models.DateField(_("last shipped on"), null=True, blank=True)
    # Running integrals over the days before `day` (from the key's first row).
    cum_unit_days = models.BigIntegerField(_("unit-days before"), default=0)
    cum_value_days = models.DecimalField(_("value-days before"), default=0, **INTEGRAL)
    cum_out_days = models.IntegerField(_("days out of stock before"), default=0)
    cum_shipped = models.BigIntegerField(_("units shipped before"), default=0)
    cum_shipped_value = models.DecimalField(_("cost shipped before"), default=0, **INTEGRAL)

    class Meta:
        verbose_name = _("daily stock snapshot")
        verbose_name_plural = _("daily stock snapshots")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse", "day"],
                condition=Q(warehouse__isnull=False),
                name="stock_day_product_warehouse_day",
            ),
            models.UniqueConstraint(
                fields=["product", "day"], condition=Q(warehouse__isnull=True), name="stock_day_product_all_day"
            ),
        ]
        indexes = [models.Index(fields=["day", "warehouse"], name="stock_day_by_day")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id or '*'} {self.day}: {self.on_hand}"


class StockTotalDay(models.Model):
    """One warehouse's (or, empty, every warehouse's) stock summed over its products, on a day on which it changed."""

    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField(_("day"))
    on_hand = models.BigIntegerField(_("on hand"))
    reserved = models.BigIntegerField(_("reserved"))
    value = models.DecimalField(_("value at cost"), **INTEGRAL)
    products_stocked = models.IntegerField(_("products in stock"))
    products_out = models.IntegerField(_("products out of stock"))
    shipped = models.BigIntegerField(_("units shipped"), default=0)
    shipped_value = models.DecimalField(_("cost of units shipped"), default=0, **INTEGRAL)

    class Meta:
        verbose_name = _("daily stock total")
        verbose_name_plural = _("daily stock totals")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "day"], condition=Q(warehouse__isnull=False), name="stock_total_warehouse_day"
            ),
            models.UniqueConstraint(fields=["day"], condition=Q(warehouse__isnull=True), name="stock_total_all_day"),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id or '*'} {self.day}: {self.value}"
