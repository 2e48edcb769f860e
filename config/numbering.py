"""Document numbers from locked counter rows: unique under concurrency and without gaps."""

from __future__ import annotations

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


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
