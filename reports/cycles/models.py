"""Snapshot tables of the order's cycle: when each order reached each stage, the review's decisions,
and the weekly and daily figures the Cycle times and Review reports read; plus the per-state limits of
the Orders at risk queue.

Every table here is derived from the orders', shipments' and invoices' own records (reports.cycles.refresh
writes them), so it can be emptied and rebuilt at any time. References to the business tables
carry no database constraint: a snapshot never blocks deleting or archiving a business row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def _snapshot_of(model: str, label, **options) -> models.ForeignKey:
    """A reference to a business row for joins and select_related, without a database constraint."""
    field = models.OneToOneField if options.get("primary_key") else models.ForeignKey
    return field(model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", verbose_name=label, **options)


class Stage(models.TextChoices):
    """A stretch of the order's life whose length the Cycle times report measures (in order)."""

    SUBMIT_APPROVE = "submit_approve", _("Submitted → approved")
    APPROVE_ALLOCATE = "approve_allocate", _("Approved → allocated")
    ALLOCATE_SHIP = "allocate_ship", _("Allocated → shipped")
    SHIP_DELIVER = "ship_deliver", _("Shipped → delivered")
    DELIVER_PAY = "deliver_pay", _("Delivered → paid")
    REVIEW = "review", _("Time in review")


class OrderCycle(models.Model):
    """One submitted order: when it reached each stage, what it was promised, and what the risk queue reads."""

    order = _snapshot_of("orders.SalesOrder", _("order"), primary_key=True)
    salesperson = _snapshot_of(settings.AUTH_USER_MODEL, _("salesperson"))
    customer = _snapshot_of("customers.Customer", _("customer"))
    status = models.CharField(_("status"), max_length=20)
    # When the order entered its current status (its latest transition into it).
    status_since = models.DateTimeField(_("in this status since"))
    submitted_at = models.DateTimeField(_("submitted"), null=True)
    approved_at = models.DateTimeField(_("approved"), null=True)
    allocated_at = models.DateTimeField(_("allocated"), null=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True)
    # When the order was last fully paid; empty unless it is paid (or refunded) now.
    paid_at = models.DateTimeField(_("paid"), null=True)
    requested_date = models.DateField(_("requested delivery date"), null=True)
    # The latest expected delivery among the order's shipments (the day the last parcel was promised).
    eta = models.DateField(_("expected delivery"), null=True)
    delivered_on = models.DateField(_("delivered on"), null=True)
    # The earliest due date among the order's issued invoices that are not settled.
    payment_due = models.DateField(_("payment due"), null=True)
    # When the oldest delivery exception still open on the order was opened.
    exception_since = models.DateTimeField(_("delivery exception since"), null=True)
    # Waiting in review because the credit or overdue check flagged it.
    credit_review = models.BooleanField(_("held by the credit check"), default=False)
    # Still moving (submitted to delivered) or owing money: the rows the risk queue looks at.
    risk_open = models.BooleanField(_("open"), default=False)
    refreshed_at = models.DateTimeField(_("refreshed"))

    class Meta:
        verbose_name = _("order cycle")
        verbose_name_plural = _("order cycles")
        default_permissions = ()
        indexes = [
            # The risk queue reads the open rows longest in their state first, and stops at a page.
            models.Index(fields=["status_since", "order"], name="cycle_risk_since", condition=Q(risk_open=True)),
            models.Index(
                fields=["salesperson", "status_since", "order"], name="cycle_risk_seller_since", condition=Q(risk_open=True)
            ),
            models.Index(fields=["salesperson", "delivered_on"], name="cycle_delivered_seller"),
            # Counting the orders at risk (per reason) over every open row reads this index alone (an index-only
            # scan of the pages the nightly VACUUM marked all-visible), not the table. Every column the conditions
            # read is a key column (SQLite has no INCLUDE).
            models.Index(
                fields=[
                    "status",
                    "status_since",
                    "requested_date",
                    "payment_due",
                    "exception_since",
                    "credit_review",
                    "customer",
                    "salesperson",
                    "order",
                ],
                name="cycle_risk_open_counts",
                condition=Q(risk_open=True),
            ),
        ]

    def __str__(self) -> str:
        return f"cycle of order {self.order_id}"


class CycleStageTime(models.Model):
    """How long one order took over one stage, counted in the week (Monday) the stage ended."""

    order_id = models.BigIntegerField(_("order"), db_index=True)
    salesperson_id = models.BigIntegerField(_("salesperson"))
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    week = models.DateField(_("week"))
    seconds = models.BigIntegerField(_("seconds"))

    class Meta:
        verbose_name = _("stage time")
        verbose_name_plural = _("stage times")
        default_permissions = ()
        indexes = [
            # Percentiles are read in this order: one index range per stage and week, already sorted.
            models.Index(fields=["stage", "week", "seconds"], name="stage_time_week"),
            models.Index(fields=["salesperson_id", "stage", "week", "seconds"], name="stage_time_salesperson"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.stage} {self.seconds}s"


class CycleWeek(models.Model):
    """Every order's time over one stage in one week: how many, the median and the 90th percentile."""

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    week = models.DateField(_("week"))
    orders = models.PositiveIntegerField(_("orders"))
    median_seconds = models.FloatField(_("median (seconds)"))
    p90_seconds = models.FloatField(_("90th percentile (seconds)"))

    class Meta:
        verbose_name = _("weekly cycle time")
        verbose_name_plural = _("weekly cycle times")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["week", "stage"], name="cycle_week_unique")]

    def __str__(self) -> str:
        return f"{self.week} {self.stage}"


class DeliveryDay(models.Model):
    """Deliveries of one day and salesperson: how many, and how many came by the requested date and by the ETA."""

    day = models.DateField(_("day"))
    salesperson_id = models.BigIntegerField(_("salesperson"))
    delivered = models.PositiveIntegerField(_("delivered"))
    with_requested = models.PositiveIntegerField(_("with a requested date"))
    on_time_requested = models.PositiveIntegerField(_("by the requested date"))
    with_eta = models.PositiveIntegerField(_("with an ETA"))
    on_time_eta = models.PositiveIntegerField(_("by the ETA"))

    class Meta:
        verbose_name = _("deliveries of a day")
        verbose_name_plural = _("deliveries of a day")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["day", "salesperson_id"], name="delivery_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.salesperson_id}"


class ReviewOutcome(models.TextChoices):
    PASSED = "passed", _("Passed the checks")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled in review")
    PENDING = "pending", _("Waiting for review")


class ReviewCase(models.Model):
    """One submission the automatic checks judged: passed, or flagged and then decided (or still waiting)."""

    order_id = models.BigIntegerField(_("order"), db_index=True)
    salesperson_id = models.BigIntegerField(_("salesperson"))
    checked_at = models.DateTimeField(_("checked"))
    checked_on = models.DateField(_("checked on"))
    flagged = models.BooleanField(_("flagged"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=ReviewOutcome.choices)
    decided_at = models.DateTimeField(_("decided"), null=True)
    decided_on = models.DateField(_("decided on"), null=True)
    reviewer = _snapshot_of(settings.AUTH_USER_MODEL, _("reviewer"), null=True)
    review_seconds = models.BigIntegerField(_("time in review (seconds)"), null=True)

    class Meta:
        verbose_name = _("review case")
        verbose_name_plural = _("review cases")
        default_permissions = ()
        indexes = [
            # Reviewer workload: decisions by day and reviewer.
            models.Index(
                fields=["decided_on", "reviewer_id", "outcome", "review_seconds"],
                name="review_case_decided",
                condition=Q(flagged=True),
            ),
            models.Index(fields=["salesperson_id", "decided_on"], name="review_case_decided_seller", condition=Q(flagged=True)),
            # Recomputing one day of one salesperson's review figures.
            models.Index(fields=["salesperson_id", "checked_on"], name="review_case_checked_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.checked_at:%Y-%m-%d} {self.outcome}"


class ReviewDay(models.Model):
    """Submissions checked on one day for one salesperson: how many, flagged, and how the flagged ones ended."""

    day = models.DateField(_("day"))
    salesperson_id = models.BigIntegerField(_("salesperson"))
    checked = models.PositiveIntegerField(_("checked"))
    flagged = models.PositiveIntegerField(_("flagged"))
    approved = models.PositiveIntegerField(_("approved"))
    rejected = models.PositiveIntegerField(_("rejected"))
    cancelled = models.PositiveIntegerField(_("cancelled"))

    class Meta:
        verbose_name = _("review figures of a day")
        verbose_name_plural = _("review figures of a day")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["day", "salesperson_id"], name="review_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.salesperson_id}"


class ReviewFlag(models.Model):
    """One rule that flagged one submission of an order (its review findings of severity "needs review")."""

    order_id = models.BigIntegerField(_("order"), db_index=True)
    salesperson_id = models.BigIntegerField(_("salesperson"))
    submission = models.PositiveIntegerField(_("submission"))
    rule = models.CharField(_("rule"), max_length=20)
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("review flag")
        verbose_name_plural = _("review flags")
        default_permissions = ()
        indexes = [
            models.Index(fields=["day", "rule"], name="review_flag_day"),
            models.Index(fields=["salesperson_id", "day", "rule"], name="review_flag_salesperson"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.submission} {self.rule}"


# The states an order may be held to a time limit in, in the order of its life.
LIMITED_STATES = ["submitted", "in_review", "approved", "allocated", "backordered", "partially_shipped", "shipped"]
MAX_LIMIT_HOURS = 24 * 365
RISK_LIMITS_CACHE_KEY = "reports:risk-limits"
RISK_LIMITS_CACHE_SECONDS = 60


def _hours_field(label, default: int | None, help_text):
    return models.PositiveIntegerField(
        label,
        null=True,
        blank=True,
        default=default,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LIMIT_HOURS)],
        help_text=help_text,
    )


class RiskLimits(models.Model):
    """How many hours an order may stay in each state before the risk queue lists it as stuck; one row,
    set by managers (empty: no limit for that state)."""

    submitted_hours = _hours_field(_("submitted"), 1, _("Waiting for the automatic checks."))
    in_review_hours = _hours_field(_("in review"), 24, _("Waiting for a reviewer's decision."))
    approved_hours = _hours_field(_("approved"), 24, _("Approved, waiting to be allocated."))
    allocated_hours = _hours_field(_("allocated"), 48, _("Stock reserved, waiting to ship."))
    backordered_hours = _hours_field(_("backordered"), 168, _("Waiting for stock."))
    partially_shipped_hours = _hours_field(_("partially shipped"), 168, _("Part shipped, the rest waiting."))
    shipped_hours = _hours_field(_("shipped"), 240, _("On its way to the customer."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("updated by")
    )

    class Meta:
        verbose_name = _("limits of the orders at risk")
        verbose_name_plural = _("limits of the orders at risk")
        default_permissions = ()

    def __str__(self) -> str:
        return str(_("Limits of the orders at risk"))

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        cache.delete(RISK_LIMITS_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(RISK_LIMITS_CACHE_KEY))

    def hours(self) -> dict[str, int]:
        """{state: hours} for the states that have a limit."""
        return {state: value for state in LIMITED_STATES if (value := getattr(self, f"{state}_hours")) is not None}

    @classmethod
    def current(cls) -> RiskLimits:
        """The one row, made with the defaults on first use; read from the cache, which every save clears."""
        obj = cache.get(RISK_LIMITS_CACHE_KEY)
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1)
            cache.set(RISK_LIMITS_CACHE_KEY, obj, RISK_LIMITS_CACHE_SECONDS)
        return obj
