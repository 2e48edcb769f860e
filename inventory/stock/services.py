"""Every write to stock: posting ledger movements, receipts, adjustments, moving reserved stock,
and the ledger check (allocation, alerts and replenishment live in the modules beside this one)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from django.db import connection, transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.numbering import document_number
from config.outbox import outbox_publish
from inventory.errors import InsufficientStock
from inventory.models import (
    LedgerCheck,
    MovementKind,
    Product,
    Reservation,
    ReservationState,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.stock.alerts import check_low_stock, send_ledger_check_failure

logger = logging.getLogger(__name__)

# One movement may not move more than this (a typing or scanning accident, not stock).
MAX_MOVEMENT_QUANTITY = 1_000_000


def stock_level_lock(*, product: Product, warehouse: Warehouse) -> StockLevel:
    """The product's stock row in the warehouse, created if missing, locked until commit."""
    StockLevel.objects.bulk_create([StockLevel(product=product, warehouse=warehouse)], ignore_conflicts=True)
    return StockLevel.objects.select_for_update().get(product=product, warehouse=warehouse)


def stock_levels_lock(*, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], StockLevel]:
    """The stock rows of several (product id, warehouse id) pairs, created if missing and locked in
    primary-key order, so two transactions touching the same rows can never deadlock."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    StockLevel.objects.bulk_create([StockLevel(product_id=p, warehouse_id=w) for p, w in wanted], ignore_conflicts=True)
    match = Q()
    for product_id, warehouse_id in wanted:
        match |= Q(product_id=product_id, warehouse_id=warehouse_id)
    levels = StockLevel.objects.filter(match).order_by("pk").select_for_update()
    return {(level.product_id, level.warehouse_id): level for level in levels}


def stock_shift_reserved(*, deltas: Mapping[int, int]) -> None:
    """Add each delta to `reserved` of the stock row with that id, in one UPDATE whatever the count.

    The caller holds the rows' locks and has checked availability; the CHECK constraints are the
    last line of defence (reserved between 0 and on hand).
    """
    deltas = {pk: delta for pk, delta in deltas.items() if delta}
    if not deltas:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(StockLevel._meta.db_table)
        rows = ", ".join(["(%s::bigint, %s::integer)"] * len(deltas))
        params: list = [now]
        for pk, delta in sorted(deltas.items()):
            params.extend([pk, delta])
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS s SET reserved = s.reserved + v.delta, updated_at = %s "
                f"FROM (VALUES {rows}) AS v(id, delta) WHERE s.id = v.id",
                params,
            )
        return
    StockLevel.objects.filter(pk__in=list(deltas)).update(
        reserved=F("reserved")
        + Case(*[When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()], default=Value(0), output_field=IntegerField()),
        updated_at=now,
    )


def queue_low_stock_check(*, level_ids: Iterable[int]) -> None:
    """After commit, compare the stock rows with their safety stock (raise or resolve alerts)."""
    ids = sorted(set(level_ids))
    if not ids:
        return
    transaction.on_commit(lambda: check_low_stock.delay(level_ids=ids), robust=True)


def announce_stock_moved(*, product_ids: Iterable[int]) -> None:
    """An outbox event, in this transaction, naming the products whose ledger just grew (for whoever
    keeps figures derived from it, e.g. the reports' stock snapshot); nothing is written when nobody listens."""
    ids = sorted(set(product_ids))
    if ids:
        outbox_publish(topic="inventory.stock_moved", payload={"product_ids": ids})


def queue_backorder_allocation(*, product_ids: Iterable[int]) -> None:
    """Stock of these products became available: an outbox event, in this transaction, so whoever
    waits for it (orders) gets it after commit even when the broker is down at that moment."""
    ids = sorted(set(product_ids))
    if ids:
        outbox_publish(topic="inventory.stock_available", payload={"product_ids": ids})


@transaction.atomic
def stock_post_movement(
    *,
    product: Product,
    warehouse: Warehouse,
    kind: str,
    quantity: int,
    reason: str = "",
    params: dict | None = None,
    document: str = "",
    by=None,
    reverses: StockMovement | None = None,
) -> StockMovement:
    """Append one ledger movement and move on hand by the same quantity, in one transaction.

    Stock going out may not take on hand below what is reserved (the CHECK constraints would
    refuse it anyway; this says why in the user's words). A primitive of the stock services: they
    check the actor's permission, `by` is only the user recorded on the row. A worded reason is an English msgid
    (gettext_noop) with its figures in `params`, worded when shown; a typed reason has no params.
    """
    if quantity == 0:
        raise DomainError(_("A stock movement needs a quantity other than zero."))
    if kind not in MovementKind.values:
        raise DomainError(_("Unknown kind of stock movement."))
    if not warehouse.is_active and quantity > 0 and kind != MovementKind.TRANSFER_IN:
        raise DomainError(_("Warehouse %(code)s is not active.") % {"code": warehouse.code})
    level = stock_level_lock(product=product, warehouse=warehouse)
    if level.on_hand + quantity < level.reserved:
        raise InsufficientStock(
            _("%(sku)s in %(wh)s: %(on_hand)s on hand, %(reserved)s reserved; cannot take %(qty)s out.")
            % {"sku": product.sku, "wh": warehouse.code, "on_hand": level.on_hand, "reserved": level.reserved, "qty": -quantity}
        )
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)
    movement = StockMovement.objects.create(
        product=product,
        warehouse=warehouse,
        kind=kind,
        quantity=quantity,
        reason=reason,
        params=params or {},
        document=document,
        created_by=by,
        reverses=reverses,
        # Goods leaving for a customer carry their cost of the moment (see StockMovement.unit_cost).
        unit_cost=product.cost if kind == MovementKind.SHIPMENT and quantity < 0 else None,
    )
    queue_low_stock_check(level_ids=[level.pk])
    announce_stock_moved(product_ids=[product.pk])
    return movement


def stock_post_movements_locked(
    *, movements: list[StockMovement], levels: Mapping[tuple[int, int], StockLevel]
) -> list[StockMovement]:
    """Append several movements whose stock rows the caller holds locked (`levels` by (product id,
    warehouse id)) and move on hand by the same quantities: one UPDATE and one INSERT whatever the
    count. The caller has checked what may leave; the CHECK constraints are the last line of defence."""
    deltas: dict[int, int] = {}
    for movement in movements:
        if movement.quantity == 0:
            raise DomainError(_("A stock movement needs a quantity other than zero."))
        pk = levels[(movement.product_id, movement.warehouse_id)].pk
        deltas[pk] = deltas.get(pk, 0) + movement.quantity
    if not movements:
        return []
    StockLevel.objects.filter(pk__in=list(deltas)).update(
        on_hand=F("on_hand")
        + Case(*[When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()], default=Value(0), output_field=IntegerField()),
        updated_at=timezone.now(),
    )
    created = StockMovement.objects.bulk_create(movements)
    queue_low_stock_check(level_ids=deltas)
    announce_stock_moved(product_ids=[movement.product_id for movement in movements])
    return created


def _require(actor: Actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to do that."))


@transaction.atomic
def stock_reverse_movement(*, movement: StockMovement, reason: str, by) -> StockMovement:
    """Correct a mistaken movement with its exact opposite; the original stays in the ledger."""
    actor = Actor.of(by)
    _require(actor, "inventory.adjust_stock")
    if not reason.strip():
        raise DomainError(_("Say why the movement is reversed."))
    if movement.reverses_id is not None:
        raise DomainError(_("A reversal cannot be reversed; post a new movement instead."))
    # The stock row's lock serializes two people reversing the same movement at once.
    stock_level_lock(product=movement.product, warehouse=movement.warehouse)
    if movement.reversals.exists():
        raise DomainError(_("This movement was already reversed."))
    reversal = stock_post_movement(
        product=movement.product,
        warehouse=movement.warehouse,
        kind=movement.kind,
        quantity=-movement.quantity,
        reason=reason,
        document=movement.document,
        by=actor.user_or_none,
        reverses=movement,
    )
    if reversal.quantity > 0:
        queue_backorder_allocation(product_ids=[movement.product_id])
    return reversal


def receipt_next_number() -> str:
    """GR-<year>-<6 digits> from the numbering registry."""
    return document_number("goods_receipt")


@transaction.atomic
def stock_receive(
    *,
    warehouse: Warehouse,
    quantities: Mapping[Product, int],
    reference: str = "",
    by,
    document: str = "",
) -> list[StockMovement]:
    """Goods arrived: one receipt movement per product, then waiting orders get them first-come-first-served."""
    actor = Actor.of(by)
    _require(actor, "inventory.receive_stock")
    if not warehouse.is_active:
        raise DomainError(_("Warehouse %(code)s is not active.") % {"code": warehouse.code})
    items = sorted(((product, qty) for product, qty in quantities.items() if qty), key=lambda item: item[0].pk)
    if not items:
        raise DomainError(_("Scan or enter at least one product to receive."))
    for product, qty in items:
        if qty < 0 or qty > MAX_MOVEMENT_QUANTITY:
            raise DomainError(
                _("%(sku)s: a received quantity must be between 1 and %(max)s.")
                % {"sku": product.sku, "max": MAX_MOVEMENT_QUANTITY}
            )
    document = document or receipt_next_number()
    # Worded when shown (the ledger keeps the English source and its figures, never a translation).
    if reference.strip():
        reason, params = gettext_noop("Delivery note %(ref)s"), {"ref": reference.strip()}
    else:
        reason, params = gettext_noop("Goods receipt %(document)s"), {"document": document}
    stock_levels_lock(pairs=[(product.pk, warehouse.pk) for product, _qty in items])
    movements = [
        stock_post_movement(
            product=product,
            warehouse=warehouse,
            kind=MovementKind.RECEIPT,
            quantity=qty,
            reason=reason,
            params=params,
            document=document,
            by=actor.user_or_none,
        )
        for product, qty in items
    ]
    queue_backorder_allocation(product_ids=[product.pk for product, _qty in items])
    return movements


@transaction.atomic
def stock_adjust(*, product: Product, warehouse: Warehouse, quantity: int, reason: str, by) -> StockMovement:
    """Correct on hand by a signed quantity with a reason; never below what is reserved for orders."""
    actor = Actor.of(by)
    _require(actor, "inventory.adjust_stock")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the stock is adjusted."))
    if not quantity:
        raise DomainError(_("An adjustment needs a quantity other than zero."))
    if abs(quantity) > MAX_MOVEMENT_QUANTITY:
        raise DomainError(_("An adjustment may move at most %(max)s units.") % {"max": MAX_MOVEMENT_QUANTITY})
    movement = stock_post_movement(
        product=product,
        warehouse=warehouse,
        kind=MovementKind.ADJUSTMENT,
        quantity=quantity,
        reason=reason,
        by=actor.user_or_none,
    )
    if quantity > 0:
        queue_backorder_allocation(product_ids=[product.pk])
    return movement


@transaction.atomic
def stock_level_set_planning(
    *,
    product: Product,
    warehouse: Warehouse,
    safety_stock: int,
    reorder_point: int,
    reorder_quantity: int,
    by,
) -> StockLevel:
    """Set the safety stock, reorder point and reorder quantity of a product in a warehouse; alerts
    follow the new safety stock after commit."""
    _require(Actor.of(by), "inventory.manage_replenishment")
    if min(safety_stock, reorder_point, reorder_quantity) < 0:
        raise DomainError(_("Planning figures cannot be negative."))
    level = stock_level_lock(product=product, warehouse=warehouse)
    level.safety_stock, level.reorder_point, level.reorder_quantity = safety_stock, reorder_point, reorder_quantity
    level.save(update_fields=["safety_stock", "reorder_point", "reorder_quantity", "updated_at"])
    queue_low_stock_check(level_ids=[level.pk])
    return level


# --- the ledger check ----------------------------------------------------------------------------

MAX_REPORTED_PROBLEMS = 50


def _ledger_problems() -> tuple[int, list[dict]]:
    """Stock rows whose on hand is not Σ movements or whose reserved is not Σ active reservations,
    rows out of bounds, and movements or reservations with no stock row at all (aggregate queries)."""
    moved = (
        StockMovement.objects.filter(product=OuterRef("product"), warehouse=OuterRef("warehouse"))
        .order_by()
        .values("product")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    held = (
        Reservation.objects.filter(product=OuterRef("product"), warehouse=OuterRef("warehouse"), state=ReservationState.ACTIVE)
        .order_by()
        .values("product")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    levels = StockLevel.objects.annotate(
        moved=Coalesce(Subquery(moved, output_field=IntegerField()), 0),
        held=Coalesce(Subquery(held, output_field=IntegerField()), 0),
    )
    bad = (
        levels.filter(
            ~Q(on_hand=F("moved")) | ~Q(reserved=F("held")) | Q(on_hand__lt=0) | Q(reserved__lt=0) | Q(reserved__gt=F("on_hand"))
        )
        .select_related("product", "warehouse")
        .order_by("pk")
    )
    problems = [
        {
            "sku": level.product.sku,
            "warehouse": level.warehouse.code,
            "on_hand": level.on_hand,
            "movements": level.moved,
            "reserved": level.reserved,
            "active_reservations": level.held,
        }
        for level in bad[:MAX_REPORTED_PROBLEMS]
    ]
    has_level = StockLevel.objects.filter(product=OuterRef("product"), warehouse=OuterRef("warehouse"))
    orphans = (
        StockMovement.objects.exclude(Exists(has_level))
        .values("product__sku", "warehouse__code")
        .annotate(total=Sum("quantity"))
        .exclude(total=0)
        .order_by("product__sku", "warehouse__code")
    )
    for row in orphans[:MAX_REPORTED_PROBLEMS]:
        problems.append(
            {"sku": row["product__sku"], "warehouse": row["warehouse__code"], "on_hand": None, "movements": row["total"]}
        )
    orphan_reservations = (
        Reservation.objects.filter(state=ReservationState.ACTIVE)
        .exclude(Exists(has_level))
        .values("product__sku", "warehouse__code")
        .annotate(total=Sum("quantity"))
        .order_by("product__sku", "warehouse__code")
    )
    for row in orphan_reservations[:MAX_REPORTED_PROBLEMS]:
        problems.append(
            {
                "sku": row["product__sku"],
                "warehouse": row["warehouse__code"],
                "reserved": None,
                "active_reservations": row["total"],
            }
        )
    return StockLevel.objects.count(), problems[:MAX_REPORTED_PROBLEMS]


@transaction.atomic
def stock_verify_ledger() -> LedgerCheck:
    """Record whether on hand = Σ movements and reserved = Σ active reservations everywhere;
    when not, log an error and email the managers and the warehouse (after commit)."""
    levels_checked, problems = _ledger_problems()
    check = LedgerCheck.objects.create(ok=not problems, levels_checked=levels_checked, problems=problems)
    if problems:
        logger.error("Stock ledger check %s found %d problem(s): %s", check.pk, len(problems), problems[:5])
        check_id = check.pk
        transaction.on_commit(lambda: send_ledger_check_failure.delay(check_id), robust=True)
    return check
