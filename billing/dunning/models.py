"""Dunning (催款): reminder levels, the reminders sent to customers with overdue invoices, and the
credit hold a configured level puts a customer on until the overdue invoices are paid."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.money import ZERO


class LetterKind(models.TextChoices):
    FRIENDLY = "friendly", _("Friendly reminder")
    FIRM = "firm", _("Firm reminder")
    FINAL = "final", _("Final notice")


class DunningLevel(models.Model):
    """One step of dunning: how many days after the due date it is reached, which letter goes out,
    and whether it puts the customer on credit hold (new orders go to review until paid)."""

    kind = models.CharField(_("letter"), max_length=10, choices=LetterKind.choices, unique=True)
    days_after_due = models.PositiveSmallIntegerField(
        _("days after due date"),
        unique=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("An invoice still open this many days after its due date reaches this level."),
    )
    credit_hold = models.BooleanField(
        _("puts the customer on credit hold"),
        default=False,
        help_text=_("New orders of the customer go to review until the overdue invoices are paid."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("updated by")
    )

    class Meta:
        app_label = "billing"
        verbose_name = _("dunning level")
        verbose_name_plural = _("dunning levels")
        ordering = ["days_after_due", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(days_after_due__gte=1), name="dunning_level_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (+{self.days_after_due})"


class PaymentReminder(models.Model):
    """A letter to one customer about its invoices that reached one dunning level (created by the
    daily run; each invoice is reminded at most once per level)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_reminders", verbose_name=_("customer")
    )
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="reminders", verbose_name=_("level"))
    kind = models.CharField(_("letter"), max_length=10, choices=LetterKind.choices)
    run_date = models.DateField(_("date"), db_index=True)
    amount_overdue = models.DecimalField(_("overdue amount"), max_digits=14, decimal_places=2, default=ZERO)
    invoice_count = models.PositiveIntegerField(_("invoices"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    puts_on_hold = models.BooleanField(_("credit hold"), default=False)
    email = models.EmailField(_("sent to"), blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        app_label = "billing"
        verbose_name = _("payment reminder")
        verbose_name_plural = _("payment reminders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_overdue__gte=0), name="payment_reminder_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer.name} · {self.run_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("billing:reminder_detail", args=[self.pk])


class PaymentReminderLine(models.Model):
    """One overdue invoice a reminder names, with what was open and how late it was that day."""

    reminder = models.ForeignKey(PaymentReminder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("reminder"))
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="reminder_lines", verbose_name=_("invoice")
    )
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="+", verbose_name=_("level"))
    due_date = models.DateField(_("due date"))
    days_overdue = models.PositiveIntegerField(_("days overdue"))
    open_amount = models.DecimalField(_("open amount"), max_digits=14, decimal_places=2)

    class Meta:
        app_label = "billing"
        verbose_name = _("payment reminder line")
        verbose_name_plural = _("payment reminder lines")
        ordering = ["due_date", "pk"]
        constraints = [
            # The daily run may run twice (a retry, two beat instances): an invoice is reminded once per level.
            models.UniqueConstraint(fields=["invoice", "level"], name="reminder_line_once_per_invoice_and_level"),
        ]

    def __str__(self) -> str:
        return f"{self.reminder_id}: {self.invoice_id}"


class CreditHold(models.Model):
    """A customer on credit hold because of overdue invoices: its new orders go to review until the
    hold is released (by payment, or by finance)."""

    class Release(models.TextChoices):
        PAID = "paid", _("Overdue invoices paid")
        MANUAL = "manual", _("Released by finance")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="credit_holds", verbose_name=_("customer")
    )
    reminder = models.ForeignKey(
        PaymentReminder, on_delete=models.PROTECT, null=True, blank=True, related_name="holds", verbose_name=_("reminder")
    )
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="holds", verbose_name=_("level"))
    # The hold is measured against this many days, kept as it was (a later edit of the level does not move it).
    days_after_due = models.PositiveSmallIntegerField(_("days after due date"))
    placed_at = models.DateTimeField(_("placed"), auto_now_add=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    release = models.CharField(_("released because"), max_length=10, choices=Release.choices, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )
    release_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        app_label = "billing"
        verbose_name = _("credit hold")
        verbose_name_plural = _("credit holds")
        ordering = ["-placed_at", "-pk"]
        permissions = [("release_credithold", _("Can release credit holds"))]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(released_at__isnull=True), name="one_active_credit_hold"),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True, release="") | (Q(released_at__isnull=False) & ~Q(release="")),
                name="credit_hold_release_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.placed_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None
