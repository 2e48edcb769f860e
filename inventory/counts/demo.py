"""Demo data for counts and transfers: one count in progress and one transfer in transit.

Runs after the catalogue and stock seeders; running it again changes nothing that exists.
"""

from __future__ import annotations

from config.errors import DomainError
from inventory.counts.models import COUNT_ACTIVE, StockCount
from inventory.counts.services import stock_count_open, stock_count_record
from inventory.models import StockLevel, Warehouse
from inventory.transfers.models import StockTransfer
from inventory.transfers.services import transfer_add_line, transfer_create, transfer_ship

DEMO_COUNT_NOTE = "Demo: quarterly count of the main warehouse"
DEMO_TRANSFER_NOTE = "Demo: restocking the second warehouse"


def _say(stdout, text) -> None:
    if stdout is not None:
        stdout.write(str(text))


def seed(*, users, stdout=None) -> None:
    """A count being counted in the first warehouse and a transfer in transit to the second."""
    clerk = users.get("warehouse")
    if clerk is None:
        return
    warehouses = list(Warehouse.objects.filter(is_active=True).order_by("priority", "code")[:2])
    if not warehouses:
        _say(stdout, "Counts demo: no warehouse yet, nothing seeded.")
        return
    _seed_count(warehouse=warehouses[0], clerk=clerk, stdout=stdout)
    if len(warehouses) == 2:
        _seed_transfer(source=warehouses[0], destination=warehouses[1], clerk=clerk, stdout=stdout)


def _seed_count(*, warehouse, clerk, stdout) -> None:
    if StockCount.objects.filter(note=DEMO_COUNT_NOTE).exists():
        return
    if StockCount.objects.filter(warehouse=warehouse, state__in=COUNT_ACTIVE).exists():
        return  # someone is counting there already: the demo does not get in the way
    try:
        count = stock_count_open(warehouse=warehouse, by=clerk, only_in_stock=True, note=DEMO_COUNT_NOTE)
    except DomainError:
        return  # no stock to count yet
    lines = list(count.lines.order_by("product__sku")[: max(1, count.line_count // 2)])
    # Most shelves match the system; every third one is one short, as a count usually finds.
    quantities = {line.pk: max(0, line.expected_quantity - (1 if i % 3 == 2 else 0)) for i, line in enumerate(lines)}
    stock_count_record(count=count, quantities=quantities, by=clerk)
    _say(stdout, f"Counts demo: {count.number} in progress ({len(lines)} of {count.line_count} lines counted).")


def _seed_transfer(*, source, destination, clerk, stdout) -> None:
    if StockTransfer.objects.filter(note=DEMO_TRANSFER_NOTE).exists():
        return
    levels = [
        level
        for level in StockLevel.objects.filter(warehouse=source, on_hand__gt=0).select_related("product").order_by("product__sku")
        if level.available >= 4
    ][:3]
    if not levels:
        return
    transfer = transfer_create(source=source, destination=destination, by=clerk, note=DEMO_TRANSFER_NOTE)
    for level in levels:
        transfer_add_line(transfer=transfer, product=level.product, quantity=min(10, level.available // 2), by=clerk)
    try:
        transfer_ship(transfer=transfer, by=clerk)
    except DomainError:
        return  # stays a draft: still a useful example
    _say(stdout, f"Counts demo: transfer {transfer.number} in transit from {source.code} to {destination.code}.")
