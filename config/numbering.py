"""Document numbers: one registry of kinds (prefix, width, per year, gapless) and one counter.

Gapless kinds (invoices, credit notes) take their number from a locked counter row inside the
transaction that uses it, so a rolled-back document leaves no hole; callers take it as late as they
can in their transaction: the counter row is the last lock (DESIGN: document row → reservations →
stock levels → number counter).

Kinds marked `sequence` (sales orders) need unique numbers, not gapless ones, and are taken at a
high rate: on PostgreSQL they come from a database sequence per kind and year, with no row lock,
so concurrent orders never queue on the counter (a rolled-back order leaves a gap, which is
allowed). A sequence is created after migrate (this year) or on first use (a new year) and starts
after what the counter row had handed out, so numbers carry on where they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, ProgrammingError, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class DocumentKind:
    key: str
    prefix: str
    width: int = 6
    per_year: bool = True
    gapless: bool = False
    # From a database sequence (PostgreSQL): unique, never waited for, with a gap where a
    # transaction rolled back. For the kinds entered at high rate (orders); others use the counter.
    sequence: bool = False

    def __post_init__(self) -> None:
        if self.gapless and self.sequence:
            raise ValueError(f"{self.key}: a sequence leaves gaps, a gapless kind takes the counter")

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
        DocumentKind("sales_order", "SO", sequence=True),
        DocumentKind("goods_receipt", "GR"),
        DocumentKind("stock_count", "SC"),
        DocumentKind("stock_transfer", "TR"),
        DocumentKind("replenishment", "RP"),
        DocumentKind("shipment", "SH"),
        DocumentKind("return", "RMA"),
        DocumentKind("pick_wave", "WV"),
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


class NumberBlock:
    """Numbers of one counter kind handed out in turn under a single lock of its counter row (a batch
    of documents recorded together): `peek` shows the next, `take` hands it out, `close` writes the
    counter once. The numbers are those the same documents would have taken one at a time."""

    def __init__(self, kind: str, *, year: int | None = None):
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("a number block must be taken inside the transaction that uses the numbers")
        self.spec = DOCUMENT_KINDS[kind]
        if self.spec.sequence:
            raise ValueError(f"{kind}: numbers from a sequence are taken one by one")
        self.year = (year or timezone.localdate().year) if self.spec.per_year else 0
        NumberSequence.objects.bulk_create([NumberSequence(key=self.spec.key, year=self.year)], ignore_conflicts=True)
        self._counter = NumberSequence.objects.select_for_update().get(key=self.spec.key, year=self.year)
        self._start = self._counter.last_value
        self.taken = 0

    def peek(self) -> str:
        return self.spec.format(value=self._start + self.taken + 1, year=self.year)

    def take(self) -> str:
        number = self.peek()
        self.taken += 1
        return number

    def close(self) -> None:
        if self.taken:
            NumberSequence.objects.filter(pk=self._counter.pk).update(last_value=self._start + self.taken)


def _sequence_name(key: str, year: int) -> str:
    return f"docnum_{key}_{year}"


def _create_sequence(name: str, *, key: str, year: int) -> None:
    """Create the kind's sequence, starting after what its counter row handed out before sequences."""
    start = (NumberSequence.objects.filter(key=key, year=year).values_list("last_value", flat=True).first() or 0) + 1
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {int(start)}')
    except (IntegrityError, ProgrammingError):
        pass  # another transaction created it at the same moment: it exists once that one commits


def next_unique_number(key: str, year: int = 0) -> int:
    """The next value of a kind whose numbers must be unique but may have gaps: one `nextval` on
    PostgreSQL (NULL while the sequence does not exist yet, then it is created), the counter elsewhere."""
    if connection.vendor != "postgresql":
        return next_number(key, year)
    name = _sequence_name(key, year)
    query = "SELECT CASE WHEN to_regclass(%s) IS NOT NULL THEN nextval(%s::text::regclass) END"
    with connection.cursor() as cursor:
        cursor.execute(query, [name, name])
        value = cursor.fetchone()[0]
        if value is None:
            _create_sequence(name, key=key, year=year)
            cursor.execute(query, [name, name])
            value = cursor.fetchone()[0]
    return value


def create_sequences_after_migrate(sender=None, using="default", **kwargs) -> None:
    """After migrate: the sequences of this year's (and the yearless) kinds, so the first document
    of each kind takes one `nextval` like every other; next year's are created on first use."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    year = timezone.localdate().year
    with transaction.atomic(using=using):
        for spec in DOCUMENT_KINDS.values():
            if not spec.sequence:
                continue
            key_year = year if spec.per_year else 0
            name = _sequence_name(spec.key, key_year)
            counter = NumberSequence.objects.using(using).filter(key=spec.key, year=key_year)
            start = (counter.values_list("last_value", flat=True).first() or 0) + 1
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {int(start)}')


def document_number(kind: str, *, year: int | None = None) -> str:
    """The next number of a registered document kind, e.g. document_number("sales_order") → SO-2026-000124."""
    spec = DOCUMENT_KINDS[kind]
    take = next_unique_number if spec.sequence else next_number
    if spec.per_year:
        year = year or timezone.localdate().year
        return spec.format(value=take(spec.key, year), year=year)
    return spec.format(value=take(spec.key, 0))
