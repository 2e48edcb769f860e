"""Every write of a stock count (盘点), and the reads its pages share.

The rule for what a count posts: a counted quantity is the physical truth at the moment it was
entered. Its variance is counted − the system's on hand at that moment (kept on the line as
`on_hand_at_count`). Movements between opening and the entry are therefore inside the count
(expected 10 at opening, 3 shipped, counted 7 → no adjustment; counted 6 → −1), and movements
after the entry are not (counted 7 at on hand 10, then 2 shipped → −3 is posted, on hand ends
at 5). With no movement after the entry this is simply counted − current on hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_fsm import can_proceed, has_transition_perm

from config.money import ZERO, round_money
from config.numbering import next_number

from .count_models import COUNT_ACTIVE, MAX_COUNTED_QUANTITY, StockCount, StockCountLine, StockCountState
from .errors import InventoryError
from .models import MovementKind, Product, StockLevel, StockMovement, Warehouse
from .selectors import product_by_code
from .services import queue_backorder_allocation, stock_levels_lock, stock_post_movement


class StockCountError(InventoryError):
    """A count rule refused the action; the message is shown to the user as is."""


# What each transition is called in a refusal message.
ACTION_LABELS = {
    "start_counting": gettext_lazy("start counting"),
    "post": gettext_lazy("post"),
    "cancel": gettext_lazy("cancel"),
}


def stock_count_number_for(*, year: int, value: int) -> str:
    return f"SC-{year}-{value:04d}"


def stock_count_lock(*, count_id: int) -> StockCount:
    """Re-read the count under a row lock before acting on it."""
    return StockCount.objects.select_for_update().select_related("warehouse").get(pk=count_id)


def _check_transition(*, count: StockCount, method, by) -> None:
    if not can_proceed(method):
        raise StockCountError(
            _("Count %(number)s cannot do “%(action)s” while it is %(state)s.")
            % {"number": count.number, "action": ACTION_LABELS[method.__name__], "state": count.get_state_display()}
        )
    if by is not None and not has_transition_perm(method, by):
        raise StockCountError(_("You are not allowed to do that with this count."))


def stock_count_products(
    *, warehouse: Warehouse, sku_prefix: str = "", search: str = "", only_in_stock: bool = False
) -> QuerySet[Product]:
    """Products a count with this scope covers: active ones, and any with stock in the warehouse."""
    in_warehouse = Q(stock_levels__warehouse=warehouse, stock_levels__on_hand__gt=0)
    products = Product.objects.filter(in_warehouse) if only_in_stock else Product.objects.filter(Q(is_active=True) | in_warehouse)
    if sku_prefix:
        products = products.filter(sku__istartswith=sku_prefix)
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search) | Q(barcode__icontains=search))
    return products.distinct().order_by("sku")


@transaction.atomic
def stock_count_open(
    *, warehouse: Warehouse, by, sku_prefix: str = "", search: str = "", only_in_stock: bool = False, note: str = ""
) -> StockCount:
    """Open a count: snapshot each product's on hand and the ledger position; a product is on one open count at a time."""
    if not by.has_perm("inventory.count_stock"):
        raise StockCountError(_("You are not allowed to count stock."))
    # Serialise openings per warehouse, so two overlapping counts cannot both pass the check below.
    warehouse = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    if not warehouse.is_active:
        raise StockCountError(_("Warehouse %(code)s is not active.") % {"code": warehouse.code})
    sku_prefix, search = sku_prefix.strip(), search.strip()
    # The ledger position is read before the quantities: a movement committed in between shows as
    # "moved since opening" (a harmless warning), never as a wrong adjustment.
    ledger_position = StockMovement.objects.aggregate(last=Max("pk"))["last"] or 0
    products = list(
        stock_count_products(warehouse=warehouse, sku_prefix=sku_prefix, search=search, only_in_stock=only_in_stock).values_list(
            "pk", "cost"
        )
    )
    if not products:
        raise StockCountError(_("No product matches this scope: there is nothing to count."))
    product_ids = [pk for pk, _cost in products]
    overlapping = (
        StockCount.objects.filter(warehouse=warehouse, state__in=COUNT_ACTIVE, lines__product_id__in=product_ids)
        .distinct()
        .values_list("number", flat=True)
    )
    if overlapping:
        raise StockCountError(
            _("Some of these products are already on count %(numbers)s in this warehouse; post or cancel it first.")
            % {"numbers": ", ".join(sorted(overlapping))}
        )
    on_hand = dict(
        StockLevel.objects.filter(warehouse=warehouse, product_id__in=product_ids).values_list("product_id", "on_hand")
    )
    year = timezone.localdate().year
    count = StockCount.objects.create(
        number=stock_count_number_for(year=year, value=next_number("stock_count", year)),
        warehouse=warehouse,
        sku_prefix=sku_prefix,
        search=search,
        only_in_stock=only_in_stock,
        note=note.strip(),
        ledger_position=ledger_position,
        line_count=len(products),
        opened_by=by,
    )
    StockCountLine.objects.bulk_create(
        StockCountLine(count=count, product_id=pk, expected_quantity=on_hand.get(pk, 0), unit_cost=cost) for pk, cost in products
    )
    return count


def _validate_counted(value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StockCountError(_("A counted quantity is a whole number."))
    if value < 0:
        raise StockCountError(_("A counted quantity cannot be negative."))
    if value > MAX_COUNTED_QUANTITY:
        raise StockCountError(_("%(qty)s is more than can be counted on one line.") % {"qty": value})


def _start_counting_if_open(*, count: StockCount, by) -> None:
    if count.state == StockCountState.OPEN:
        _check_transition(count=count, method=count.start_counting, by=by)
        count.start_counting()
        count.save(update_fields=["state"])


@transaction.atomic
def stock_count_record(*, count: StockCount, quantities: dict[int, int | None], by) -> StockCount:
    """Save counted quantities by line id (None clears a line); each keeps the system's on hand at entry."""
    locked = stock_count_lock(count_id=count.pk)
    if locked.state not in COUNT_ACTIVE:
        raise StockCountError(
            _("Count %(number)s is %(state)s, so its quantities can no longer change.")
            % {"number": locked.number, "state": locked.get_state_display()}
        )
    for value in quantities.values():
        if value is not None:
            _validate_counted(value)
    lines = {line.pk: line for line in locked.lines.filter(pk__in=list(quantities))}
    unknown = set(quantities) - set(lines)
    if unknown:
        raise StockCountError(_("Some lines do not belong to count %(number)s.") % {"number": locked.number})
    changed = [line for pk, line in lines.items() if line.counted_quantity != quantities[pk]]
    if not changed:
        return locked
    if any(quantities[line.pk] is not None for line in changed):
        _start_counting_if_open(count=locked, by=by)
    on_hand = dict(
        StockLevel.objects.filter(
            warehouse=locked.warehouse_id, product_id__in=[line.product_id for line in changed]
        ).values_list("product_id", "on_hand")
    )
    now = timezone.now()
    for line in changed:
        value = quantities[line.pk]
        line.counted_quantity = value
        line.on_hand_at_count = None if value is None else on_hand.get(line.product_id, 0)
        line.counted_by = None if value is None else by
        line.counted_at = None if value is None else now
    StockCountLine.objects.bulk_update(changed, ["counted_quantity", "on_hand_at_count", "counted_by", "counted_at"])
    return locked


@dataclass
class ScanResult:
    line: StockCountLine
    product: Product


@transaction.atomic
def stock_count_scan(*, count: StockCount, code: str, by) -> ScanResult:
    """A scanned barcode (or typed SKU) adds one to that product's counted quantity."""
    code = (code or "").strip()
    if not code:
        raise StockCountError(_("Scan a barcode or type a SKU."))
    product = product_by_code(code=code[:48])
    if product is None:
        raise StockCountError(_("No product has the barcode or SKU “%(code)s”.") % {"code": code[:48]})
    locked = stock_count_lock(count_id=count.pk)
    if locked.state not in COUNT_ACTIVE:
        raise StockCountError(
            _("Count %(number)s is %(state)s, so its quantities can no longer change.")
            % {"number": locked.number, "state": locked.get_state_display()}
        )
    line = locked.lines.select_for_update().filter(product=product).first()
    if line is None:
        raise StockCountError(
            _("%(sku)s %(name)s is not on count %(number)s (%(scope)s).")
            % {"sku": product.sku, "name": product.name, "number": locked.number, "scope": locked.scope_text}
        )
    stock_count_record(count=locked, quantities={line.pk: (line.counted_quantity or 0) + 1}, by=by)
    line.refresh_from_db()
    return ScanResult(line=line, product=product)


@transaction.atomic
def stock_count_post(*, count: StockCount, by, allow_uncounted: bool = False) -> StockCount:
    """Post counted − (on hand when counted) of every counted line as adjustments, all or nothing."""
    locked = stock_count_lock(count_id=count.pk)
    _check_transition(count=locked, method=locked.post, by=by)
    uncounted = locked.lines.filter(counted_quantity__isnull=True).count()
    if uncounted and not allow_uncounted:
        raise StockCountError(
            ngettext(
                "%(n)s line has no counted quantity. Count it, or confirm that it stays as it is.",
                "%(n)s lines have no counted quantity. Count them, or confirm that they stay as they are.",
                uncounted,
            )
            % {"n": uncounted}
        )
    lines = list(locked.lines.filter(counted_quantity__isnull=False).select_related("product").order_by("pk"))
    to_adjust = [line for line in lines if line.counted_quantity != line.on_hand_at_count]
    # Lock every stock row this count touches in primary-key order, before any of them changes.
    stock_levels_lock(pairs=[(line.product_id, locked.warehouse_id) for line in to_adjust])
    raised: list[int] = []
    for line in lines:
        adjustment = line.counted_quantity - line.on_hand_at_count
        line.adjustment_quantity = adjustment
        if adjustment == 0:
            continue
        line.movement = stock_post_movement(
            product=line.product,
            warehouse=locked.warehouse,
            kind=MovementKind.ADJUSTMENT,
            quantity=adjustment,
            document=locked.number,
            by=by,
            reason=_("Stock count %(number)s: counted %(counted)s, system %(system)s")
            % {"number": locked.number, "counted": line.counted_quantity, "system": line.on_hand_at_count},
        )
        if adjustment > 0:
            raised.append(line.product_id)
    StockCountLine.objects.bulk_update(lines, ["adjustment_quantity", "movement"])
    locked.post()
    locked.posted_by = by
    locked.posted_at = timezone.now()
    locked.save(update_fields=["state", "posted_by", "posted_at"])
    queue_backorder_allocation(product_ids=raised)
    return locked


@transaction.atomic
def stock_count_cancel(*, count: StockCount, by, reason: str) -> StockCount:
    """Abandon a count that is not posted; nothing in stock changes."""
    reason = (reason or "").strip()
    if not reason:
        raise StockCountError(_("Say why the count is cancelled."))
    locked = stock_count_lock(count_id=count.pk)
    _check_transition(count=locked, method=locked.cancel, by=by)
    locked.cancel()
    locked.cancelled_by = by
    locked.cancelled_at = timezone.now()
    locked.cancel_reason = reason[:300]
    locked.save(update_fields=["state", "cancelled_by", "cancelled_at", "cancel_reason"])
    return locked


# --- reads the count pages share -----------------------------------------------------------------


def stock_count_list() -> QuerySet[StockCount]:
    """Counts for the list page, newest first, with what the list shows in the same query."""
    return (
        StockCount.objects.select_related("warehouse", "opened_by")
        .annotate(counted_lines=Count("lines", filter=Q(lines__counted_quantity__isnull=False)))
        .order_by("-opened_at", "-pk")
    )


def stock_count_lines(*, count: StockCount) -> QuerySet[StockCountLine]:
    return count.lines.select_related("product").order_by("product__sku", "pk")


def stock_count_moved_since_opening(*, count: StockCount, product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Net quantity moved per product in the count's warehouse after the snapshot (its own adjustments aside)."""
    movements = StockMovement.objects.filter(warehouse_id=count.warehouse_id, pk__gt=count.ledger_position).exclude(
        document=count.number, kind=MovementKind.ADJUSTMENT
    )
    if product_ids is not None:
        movements = movements.filter(product_id__in=list(product_ids))
    else:
        movements = movements.filter(product__count_lines__count=count)
    rows = movements.values("product_id").annotate(net=Sum("quantity"), n=Count("pk")).order_by()
    return {row["product_id"]: row["net"] for row in rows}


@dataclass
class CountSummary:
    lines: int
    counted: int
    uncounted: int
    with_variance: int
    units_over: int
    units_short: int
    value_over: object
    value_short: object

    @property
    def value_net(self):
        return self.value_over + self.value_short


def stock_count_summary(*, count: StockCount) -> CountSummary:
    """Totals of the variances of the counted lines, in units and at cost (one query)."""
    rows = count.lines.values_list("counted_quantity", "on_hand_at_count", "adjustment_quantity", "unit_cost")
    lines = counted = with_variance = over = short = 0
    value_over = value_short = ZERO
    for counted_qty, at_count, adjusted, unit_cost in rows:
        lines += 1
        if counted_qty is None:
            continue
        counted += 1
        variance = adjusted if adjusted is not None else counted_qty - at_count
        if variance:
            with_variance += 1
        if variance > 0:
            over += variance
            value_over += round_money(variance * unit_cost)
        elif variance < 0:
            short += variance
            value_short += round_money(variance * unit_cost)
    return CountSummary(
        lines=lines,
        counted=counted,
        uncounted=lines - counted,
        with_variance=with_variance,
        units_over=over,
        units_short=short,
        value_over=value_over,
        value_short=value_short,
    )
