"""The daily receivables snapshot: what customers owed at the end of each day, aged into billing's
buckets (billing.ageing), and the day's flows (invoiced, credited, collected by payment method).

Reading billing live would aggregate every issued invoice per page; these rows are one per day
(and per day × method), so a two-year trend is a few hundred rows.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CollectionDay", "ReceivablesDay"]

MONEY = {"max_digits": 16, "decimal_places": 2}


class ReceivablesDay(models.Model):
    """The receivables at the end of one day: open and overdue amounts, per ageing bucket, and the day's flows."""

    day = models.DateField(_("day"), unique=True)
    open_total = models.DecimalField(_("open receivables"), **MONEY)
    overdue_total = models.DecimalField(_("overdue"), **MONEY)
    # {bucket key (billing.ageing.ageing_buckets): amount as text}; the buckets are configurable, so not columns.
    buckets = models.JSONField(_("ageing buckets"), default=dict)
    invoiced = models.DecimalField(_("invoiced"), default=0, **MONEY)
    credited = models.DecimalField(_("credited"), default=0, **MONEY)
    collected = models.DecimalField(_("money received"), default=0, **MONEY)

    class Meta:
        verbose_name = _("daily receivables snapshot")
        verbose_name_plural = _("daily receivables snapshots")
        default_permissions = ()
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.open_total}"


class CollectionDay(models.Model):
    """Money received on one day by one payment method (payments not voided)."""

    day = models.DateField(_("day"))
    method = models.CharField(_("method"), max_length=20)
    amount = models.DecimalField(_("amount"), **MONEY)
    payments = models.IntegerField(_("payments"))

    class Meta:
        verbose_name = _("daily collections snapshot")
        verbose_name_plural = _("daily collections snapshots")
        default_permissions = ()
        ordering = ["day", "method"]
        constraints = [models.UniqueConstraint(fields=["day", "method"], name="collection_day_method")]

    def __str__(self) -> str:
        return f"{self.day} {self.method}: {self.amount}"
