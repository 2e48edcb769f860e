"""The customer snapshot: one row per customer with its order history in figures and its RFM segment,
and one row per customer and month it ordered in.

Rebuilt nightly in full and refreshed for one customer after its order events (reports.customers.snapshot).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.money import ZERO

MONEY = {"max_digits": 14, "decimal_places": 2}


class Segment(models.TextChoices):
    """Where a customer stands by recency, frequency and monetary value (stored as the code, worded when shown)."""

    CHAMPIONS = "champions", pgettext_lazy("RFM segment", "Champions")
    LOYAL = "loyal", pgettext_lazy("RFM segment", "Loyal")
    PROMISING = "promising", pgettext_lazy("RFM segment", "Promising")
    NEW = "new", pgettext_lazy("RFM segment", "New")
    NEED_ATTENTION = "need_attention", pgettext_lazy("RFM segment", "Needs attention")
    AT_RISK = "at_risk", pgettext_lazy("RFM segment", "At risk")
    HIBERNATING = "hibernating", pgettext_lazy("RFM segment", "Hibernating")
    LOST = "lost", pgettext_lazy("RFM segment", "Lost")
    NO_ORDERS = "no_orders", pgettext_lazy("RFM segment", "No orders yet")


class CustomerSnapshot(models.Model):
    """A customer's orders, complaints and returns in figures, with its RFM scores and segment."""

    # No database constraint: the rows are rebuilt from the customers themselves, and a constraint would check
    # every inserted row against the customers table.
    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("customer"),
    )
    # Booked orders: approved and not cancelled (reports.customers.snapshot.BOOKED).
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    gross_total = models.DecimalField(_("gross amount"), default=ZERO, **MONEY)
    # The trailing 12 months (365 days) before the row was refreshed.
    orders_12m = models.PositiveIntegerField(_("orders in 12 months"), default=0)
    net_12m = models.DecimalField(_("net amount in 12 months"), default=ZERO, **MONEY)
    gross_12m = models.DecimalField(_("gross amount in 12 months"), default=ZERO, **MONEY)
    open_orders = models.PositiveIntegerField(_("open orders"), default=0)
    open_gross = models.DecimalField(_("open orders' gross amount"), default=ZERO, **MONEY)
    complaints_count = models.PositiveIntegerField(_("complaints"), default=0)
    complaints_12m = models.PositiveIntegerField(_("complaints in 12 months"), default=0)
    open_complaints = models.PositiveIntegerField(_("open complaints"), default=0)
    returns_count = models.PositiveIntegerField(_("returns"), default=0)
    returns_12m = models.PositiveIntegerField(_("returns in 12 months"), default=0)
    # 1–5 by quintiles over the customers who ordered in the window; empty for the others.
    recency_score = models.PositiveSmallIntegerField(_("recency score"), null=True, blank=True)
    frequency_score = models.PositiveSmallIntegerField(_("frequency score"), null=True, blank=True)
    monetary_score = models.PositiveSmallIntegerField(_("monetary score"), null=True, blank=True)
    segment = models.CharField(_("RFM segment"), max_length=20, choices=Segment.choices, default=Segment.NO_ORDERS)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("customer snapshot")
        verbose_name_plural = _("customer snapshots")
        default_permissions = ()
        indexes = [
            # Top customers (by the 12 months' gross), in all or in one segment.
            models.Index(fields=["-gross_12m", "customer"], name="rep_cust_top"),
            models.Index(fields=["segment", "-gross_12m", "customer"], name="rep_cust_segment_top"),
            # New customers of a period.
            models.Index(fields=["first_order_at"], name="rep_cust_first_order"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.segment}"


class CustomerMonth(models.Model):
    """A customer's booked orders in one calendar month (local time); `is_first_month` marks the month it first ordered."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (customer, month) index serves
        db_constraint=False,  # as on the snapshot
        verbose_name=_("customer"),
    )
    month = models.DateField(_("month"))
    orders = models.PositiveIntegerField(_("orders"), default=0)
    net = models.DecimalField(_("net amount"), default=ZERO, **MONEY)
    gross = models.DecimalField(_("gross amount"), default=ZERO, **MONEY)
    is_first_month = models.BooleanField(_("first month"), default=False, db_default=False)

    class Meta:
        verbose_name = _("customer month")
        verbose_name_plural = _("customer months")
        default_permissions = ()
        # One customer's months (the relationship report, a refresh) by the unique index; a period over every
        # customer (new and returning per month) reads the small table through.
        constraints = [models.UniqueConstraint(fields=["customer", "month"], name="rep_cust_month_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


class RfmBounds(models.Model):
    """The quintile bounds of the last full rebuild (one row), so that refreshing one customer scores it
    against the same bounds as everyone else until the next rebuild."""

    computed_at = models.DateTimeField(_("computed at"))
    active_customers = models.PositiveIntegerField(_("active customers"), default=0)
    # A score is 1 + the number of bounds the value is above (recency: last order at or after the cut).
    recency_cuts = models.JSONField(_("recency cuts"), default=list)
    frequency_bounds = models.JSONField(_("frequency bounds"), default=list)
    monetary_bounds = models.JSONField(_("monetary bounds"), default=list)

    class Meta:
        verbose_name = _("RFM bounds")
        verbose_name_plural = _("RFM bounds")
        default_permissions = ()

    def __str__(self) -> str:
        return f"RFM bounds {self.computed_at:%Y-%m-%d %H:%M}"
