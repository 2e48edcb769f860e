"""Document numbers: one registry of kinds (prefix, width, per year, gapless) and one counter.

Every number comes from a locked counter row taken inside the transaction that uses it, so a
rolled-back document leaves no hole (what gapless kinds need: invoices, credit notes). Callers
take the number as late as they can in their transaction: the counter row is the last lock
(DESIGN: document row → reservations → stock levels → number counter).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class DocumentKind:
    key: str
    prefix: str
    width: int = 6
    per_year: bool = True
    gapless: bool = False

    def format(self, *, value: int, year: int = 0) -> str:
        """SO-2026-000123 (per year) or C000123 (not per year)."""
        if self.per_year:
            return f"{self.prefix}-{year}-{value:0{self.width}d}"
        return f"{self.prefix}{value:0{self.width}d}"


DOCUMENT_KINDS: dict[str, DocumentKind] = {
    kind.key: kind
    for kind in [
        DocumentKind("customer", "C", per_year=False),
        DocumentKind("complaint", "CP"),
        DocumentKind("sales_order", "SO"),
        DocumentKind("goods_receipt", "GR"),
        DocumentKind("stock_count", "SC"),
        DocumentKind("stock_transfer", "TR"),
        DocumentKind("replenishment", "RP"),
        DocumentKind("shipment", "SH"),
        DocumentKind("return", "RMA"),
        DocumentKind("invoice", "INV", gapless=True),
        DocumentKind("credit_note", "CN", gapless=True),
        DocumentKind("payment", "PAY"),
        DocumentKind("refund", "RF"),
    ]
}


class NumberSequence(models.Model):
    """The last number handed out for one kind of document in one year (0: not per year)."""

    key = models.CharField(_("key"), max_length=30)
    year = models.PositiveSmallIntegerField(_("year"), default=0)
    last_value = models.PositiveBigIntegerField(_("last value"), default=0)

    class Meta:
        app_label = "config"
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [models.UniqueConstraint(fields=["key", "year"], name="uniq_number_sequence")]

    def __str__(self) -> str:
        return f"{self.key}/{self.year}: {self.last_value}"


def next_number(key: str, year: int = 0) -> int:
    """The next value of a counter; the row stays locked until the caller's transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that uses the number")
    NumberSequence.objects.bulk_create([NumberSequence(key=key, year=year)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(key=key, year=year)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def document_number(kind: str, *, year: int | None = None) -> str:
    """The next number of a registered document kind, e.g. document_number("sales_order") → SO-2026-000124."""
    spec = DOCUMENT_KINDS[kind]
    if spec.per_year:
        year = year or timezone.localdate().year
        return spec.format(value=next_number(spec.key, year), year=year)
    return spec.format(value=next_number(spec.key, 0))
