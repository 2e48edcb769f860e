"""Document numbers: gapless kinds from the locked counter, order numbers from a sequence."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from config.numbering import DOCUMENT_KINDS, DocumentKind, NumberSequence, document_number

pytestmark = pytest.mark.django_db

# A year no real document has: its sequence is created inside the test's transaction and goes with it.
YEAR = 2091


def _value(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_order_numbers_carry_on_after_what_the_counter_handed_out():
    NumberSequence.objects.create(key="sales_order", year=YEAR, last_value=41)
    assert document_number("sales_order", year=YEAR) == f"SO-{YEAR}-000042"
    assert document_number("sales_order", year=YEAR) == f"SO-{YEAR}-000043"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="sequences are PostgreSQL's")
def test_order_numbers_come_from_a_sequence_and_lock_no_counter_row():
    document_number("sales_order", year=YEAR)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"docnum_sales_order_{YEAR}"])
        assert cursor.fetchone()[0]
    # The counter row is not touched (nothing to wait for): it does not even exist for that year.
    assert not NumberSequence.objects.filter(key="sales_order", year=YEAR).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="sequences are PostgreSQL's")
def test_a_rolled_back_order_leaves_a_gap_never_a_duplicate():
    first = document_number("sales_order", year=YEAR)
    with pytest.raises(RuntimeError), transaction.atomic():
        document_number("sales_order", year=YEAR)
        raise RuntimeError("the order was refused")
    after = document_number("sales_order", year=YEAR)
    assert _value(after) == _value(first) + 2


def test_a_rolled_back_invoice_leaves_no_hole():
    first = document_number("invoice", year=YEAR)
    with pytest.raises(RuntimeError), transaction.atomic():
        document_number("invoice", year=YEAR)
        raise RuntimeError("the invoice was not issued")
    assert _value(document_number("invoice", year=YEAR)) == _value(first) + 1
    assert NumberSequence.objects.get(key="invoice", year=YEAR).last_value == _value(first) + 1


def test_no_kind_is_both_gapless_and_from_a_sequence():
    with pytest.raises(ValueError):
        DocumentKind("broken", "BR", gapless=True, sequence=True)
    assert all(not (kind.gapless and kind.sequence) for kind in DOCUMENT_KINDS.values())
    assert DOCUMENT_KINDS["invoice"].gapless and DOCUMENT_KINDS["credit_note"].gapless
