"""Every write to orders: creation, lines and totals, and the transitions of the state machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from config.actors import Actor
from config.errors import DomainError, PermissionRefused, StaleObject
from config.money import ZERO, round_money
from config.numbering import document_number
from config.rows import row_insert, rows_insert_few
from config.transitions import transition_apply
from customers.models import Address, Contact, Customer
from customers.services import address_create, customer_create
from inventory.models import Product
from orders.fulfilment.services import order_release_stock
from orders.models import EDITABLE, MAX_LINE_QUANTITY, Channel, OrderEvent, SalesOrder, SalesOrderLine, line_amounts


def order_next_number() -> str:
    """SO-<year>-<6 digits> from the numbering registry: unique under any concurrency."""
    return document_number("sales_order")


def order_recompute_totals(*, order: SalesOrder) -> SalesOrder:
    """Totals are the sums of the rounded lines, in one aggregate query."""
    sums = order.lines.aggregate(net=Sum("line_net"), tax=Sum("line_tax"), gross=Sum("line_total"), count=Count("pk"))
    # The sums are exact; round_money only drops the extra digits SQLite's SUM reports.
    order.subtotal = round_money(sums["net"] or ZERO)
    order.tax_total = round_money(sums["tax"] or ZERO)
    order.total = round_money(sums["gross"] or ZERO)
    order.line_count = sums["count"]
    return order


# Drafts belong to their author: changing someone else's order needs this permission (managers).
MANAGE_ALL_PERMISSION = "orders.manage_all_salesorder"


def order_may_change(*, order: SalesOrder, actor: Actor | object) -> bool:
    """The author may change their order; another user only with the manage-all permission; the system and channels may."""
    actor = Actor.of(actor)
    if actor.kind != "user":
        return True
    return order.created_by_id == actor.user.pk or actor.has_perm(MANAGE_ALL_PERMISSION)


def _check_own_order(*, order: SalesOrder, actor: Actor) -> None:
    if not order_may_change(order=order, actor=actor):
        raise PermissionRefused(
            _("Order %(number)s was entered by someone else: only they or a manager may change, submit or cancel it.")
            % {"number": order.number},
            code="not_yours",
        )


# --- order entry: what the entry form hands to the services --------------------------------------

# Who may price below a product's floor or give more than its maximum discount: those who may
# approve such prices in review (reviewers, managers). Sales staff may not.
PRICE_OVERRIDE_PERMISSION = "orders.review_salesorder"
# A line or an order may not exceed what the amount columns hold (max_digits=14, 2 decimals).
MAX_AMOUNT = Decimal("999999999999.99")
# 1,000 lines × 4 fields stay under DATA_UPLOAD_MAX_NUMBER_FIELDS (settings: 5,000) with the header.
MAX_ORDER_LINES = 1000


@dataclass(frozen=True)
class NewCustomer:
    """A customer entered on the order form, created when the order is saved."""

    name: str
    phone: str = ""


@dataclass(frozen=True)
class NewAddress:
    """A shipping address entered on the order form, created when the order is saved."""

    recipient: str
    line1: str
    city: str
    phone: str = ""
    province: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class OrderHeader:
    """Everything on an order except its lines."""

    customer: Customer | NewCustomer
    shipping_address: Address | NewAddress | None = None
    contact: Contact | None = None
    channel: str = Channel.PHONE
    customer_po: str = ""
    requested_date: date | None = None
    notes: str = ""
    # The order's reference in its sales channel (API orders); at most one order per channel and reference.
    external_ref: str = ""


@dataclass(frozen=True)
class LineInput:
    """One line as entered: the product (already fetched) and the figures the user typed."""

    product: Product
    quantity: int
    unit_price: Decimal
    discount_percent: Decimal = ZERO


def percent_text(value: Decimal) -> str:
    """10.00 -> "10", 12.50 -> "12.5": percentages as people write them."""
    return f"{value.normalize():f}"


def user_may_override_price(user) -> bool:
    return bool(user and user.has_perm(PRICE_OVERRIDE_PERMISSION))


def line_problems(
    *, product: Product, quantity: int, unit_price: Decimal, discount_percent: Decimal, may_override_price: bool
) -> list[tuple[str, str]]:
    """What is wrong with one line, as (field, message): quantity range, active product, price floor, maximum discount."""
    problems: list[tuple[str, str]] = []
    if not product.is_active:
        problems.append(("product", _("%(product)s is no longer sold (inactive); remove the line.") % {"product": product}))
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        problems.append(("quantity", _("The quantity must be between 1 and %(max)s.") % {"max": f"{MAX_LINE_QUANTITY:,}"}))
    if unit_price < 0:
        problems.append(("unit_price", _("The unit price cannot be negative.")))
    if not ZERO <= discount_percent <= 100:
        problems.append(("discount_percent", _("The discount must be between 0 and 100 %.")))
    if problems:
        return problems
    if not may_override_price:
        max_discount = product.max_discount_percent
        if max_discount is not None and discount_percent > max_discount:
            problems.append(
                (
                    "discount_percent",
                    _("At most %(max)s %% discount on %(sku)s; a reviewer or manager may give more.")
                    % {"max": percent_text(max_discount), "sku": product.sku},
                )
            )
        floor = product.lowest_allowed_price()
        net_unit_price = unit_price * (Decimal(100) - discount_percent) / Decimal(100)
        if floor is not None and net_unit_price < floor:
            problems.append(
                (
                    "unit_price",
                    _("The net unit price %(net)s is below the lowest allowed price %(floor)s of %(sku)s.")
                    % {"net": round_money(net_unit_price), "floor": round_money(floor), "sku": product.sku},
                )
            )
    _net, _tax, gross = line_amounts(
        quantity=quantity, unit_price=unit_price, discount_percent=discount_percent, tax_rate=product.tax_rate
    )
    if gross > MAX_AMOUNT:
        problems.append(("__all__", _("The line amount is too large.")))
    return problems


def _check_lines(*, lines: list[LineInput], by) -> None:
    if len(lines) > MAX_ORDER_LINES:
        raise DomainError(_("An order may have at most %(max)s lines.") % {"max": MAX_ORDER_LINES})
    may_override = user_may_override_price(by)  # a user or an Actor: both answer has_perm
    messages = []
    for position, line in enumerate(lines, start=1):
        for _field, message in line_problems(
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            may_override_price=may_override,
        ):
            messages.append(_("Line %(position)s: %(message)s") % {"position": position, "message": message})
    if messages:
        raise DomainError(" ".join(messages))


def _build_lines(*, order: SalesOrder, lines: list[LineInput]) -> list[SalesOrderLine]:
    built = []
    for position, entered in enumerate(lines, start=1):
        line = SalesOrderLine(
            order=order,
            position=position,
            product=entered.product,
            description=entered.product.name[:200],
            quantity=entered.quantity,
            unit_price=entered.unit_price,
            discount_percent=entered.discount_percent,
            tax_rate=entered.product.tax_rate,
        )
        line.compute_amounts()
        built.append(line)
    return built


def _set_totals(*, order: SalesOrder, built: list[SalesOrderLine]) -> None:
    """The order's totals are the sums of its rounded lines (computed here, as the lines are stored)."""
    order.subtotal = sum((line.line_net for line in built), ZERO)
    order.tax_total = sum((line.line_tax for line in built), ZERO)
    order.total = sum((line.line_total for line in built), ZERO)
    order.line_count = len(built)
    if order.total > MAX_AMOUNT:
        raise DomainError(_("The order total is too large; split it into several orders."))


def _store_lines_and_totals(*, order: SalesOrder, lines: list[LineInput]) -> SalesOrder:
    """Insert the lines in one statement and store the totals they sum to."""
    built = _build_lines(order=order, lines=lines)
    _set_totals(order=order, built=built)
    SalesOrderLine.objects.bulk_create(built)
    SalesOrder.objects.filter(pk=order.pk).update(
        subtotal=order.subtotal, tax_total=order.tax_total, total=order.total, line_count=order.line_count
    )
    return order


def _customer_refusal(error: Exception) -> DomainError:
    if isinstance(error, ValidationError):
        return DomainError(" ".join(str(message) for message in error.messages))
    return DomainError(str(error))


def order_customer_create(*, new: NewCustomer, by) -> Customer:
    """A customer typed on the order form is created by the customers app, with its code and timeline."""
    try:
        return customer_create(data={"name": new.name, "phone": new.phone}, by=by, params={"via": "order"})
    except ValidationError as error:
        raise _customer_refusal(error)


def order_address_create(*, customer: Customer, new: NewAddress, by) -> Address:
    """A shipping address typed on the order form is added to the customer (the first becomes its default)."""
    data = {
        "kind": Address.Kind.SHIPPING,
        "recipient": new.recipient,
        "phone": new.phone,
        "line1": new.line1,
        "city": new.city,
        "province": new.province,
        "postal_code": new.postal_code,
    }
    try:
        return address_create(customer=customer, data=data, by=by)
    except ValidationError as error:
        raise _customer_refusal(error)


def _resolve_header(*, header: OrderHeader, by) -> tuple[Customer, Address | None]:
    """Create the customer and address typed on the form, if any, and check they belong together."""
    customer = header.customer
    if isinstance(customer, NewCustomer):
        customer = order_customer_create(new=customer, by=by)
    address = header.shipping_address
    if isinstance(address, NewAddress):
        address = order_address_create(customer=customer, new=address, by=by)
    elif address is not None and address.customer_id != customer.pk:
        raise DomainError(_("The shipping address belongs to another customer."))
    if header.contact is not None and header.contact.customer_id != customer.pk:
        raise DomainError(_("The contact belongs to another customer."))
    return customer, address


@transaction.atomic
def order_create(*, header: OrderHeader, lines: list[LineInput], by) -> SalesOrder:
    """A new draft gets the next SO number, its lines and stored totals, and a 'created' timeline row."""
    return _create(header=header, lines=lines, by=by)


# The bodies of order_create and order_submit run in the caller's transaction: order_save_and_submit calls
# them inside its own, where a savepoint each (two more statements each) would guard nothing more.
def _create(*, header: OrderHeader, lines: list[LineInput], by) -> SalesOrder:
    actor = Actor.of(by)
    if not actor.has_perm("orders.add_salesorder"):
        raise DomainError(_("You are not allowed to enter orders."), code="permission_denied")
    if actor.user is None:
        raise ValueError("an order is entered by a user or a channel client's account")
    # The actor (not its user) is passed on: a channel client acts with its scopes' permissions.
    _check_lines(lines=lines, by=actor)
    external_ref = header.external_ref.strip()
    if external_ref:
        order_refuse_duplicate_ref(channel=header.channel, external_ref=external_ref)
    customer, address = _resolve_header(header=header, by=actor)
    order = SalesOrder(
        customer=customer,
        shipping_address=address,
        contact=header.contact,
        channel=header.channel,
        customer_po=header.customer_po.strip(),
        requested_date=header.requested_date,
        notes=header.notes,
        external_ref=external_ref,
        created_by=actor.user,
    )
    # The totals are known before the row is written: one INSERT for the order, one for its lines.
    built = _build_lines(order=order, lines=lines)
    _set_totals(order=order, built=built)
    order.number = order_next_number()
    row_insert(order)
    for line in built:
        line.order = order  # the order has its primary key now
    rows_insert_few(built)
    OrderEvent.record(order, kind=OrderEvent.Kind.CREATED, actor=actor, params={"lines": len(lines)})
    return order


def order_refuse_duplicate_ref(*, channel: str, external_ref: str) -> None:
    """A channel's reference names at most one order: a second push of it is refused, naming the first."""
    existing = SalesOrder.objects.filter(channel=channel, external_ref=external_ref).values_list("number", flat=True).first()
    if existing is not None:
        raise DomainError(
            _("Order %(number)s already has the reference %(ref)s in this channel.") % {"number": existing, "ref": external_ref},
            code="duplicate_external_ref",
            field="external_ref",
            params={"number": existing},
        )


HEADER_FIELDS = ["customer", "shipping_address", "contact", "channel", "customer_po", "requested_date", "notes"]


def _describe_edit(*, before: SalesOrder, after: dict, old_lines: list[tuple], new_lines: list[LineInput]) -> dict:
    """What a draft edit changed, as timeline params: header fields by name, lines by SKU."""
    changed_fields = []
    for name in HEADER_FIELDS:
        field = SalesOrder._meta.get_field(name)
        old = getattr(before, field.attname)
        new = after[name]
        new = getattr(new, "pk", new)
        if old != new and not (old in (None, "") and new in (None, "")):
            changed_fields.append(name)
    old_by_product = {row[0]: row for row in old_lines}
    new_by_product = {line.product.pk: line for line in new_lines}
    return {
        "fields": changed_fields,
        "added": [line.product.sku for pid, line in new_by_product.items() if pid not in old_by_product],
        "removed": [row[1] for pid, row in old_by_product.items() if pid not in new_by_product],
        "changed": [
            line.product.sku
            for pid, line in new_by_product.items()
            if pid in old_by_product
            and (line.quantity, line.unit_price, line.discount_percent) != tuple(old_by_product[pid][2:5])
        ],
        "edited": True,
    }


@transaction.atomic
def order_update_draft(*, order: SalesOrder, version: int, header: OrderHeader, lines: list[LineInput], by) -> SalesOrder:
    """A draft is saved only if nobody saved it since `version` was read; its lines are replaced and an 'edited' row logged."""
    actor = Actor.of(by)
    if not actor.has_perm("orders.change_salesorder"):
        raise DomainError(_("You are not allowed to edit orders."), code="permission_denied")
    _check_own_order(order=order, actor=actor)
    by = actor.user
    _check_lines(lines=lines, by=by)
    if order.version != version:
        raise StaleObject(_stale_message(order))
    customer, address = _resolve_header(header=header, by=by)
    values = {
        "customer": customer,
        "shipping_address": address,
        "contact": header.contact,
        "channel": header.channel,
        "customer_po": header.customer_po.strip(),
        "requested_date": header.requested_date,
        "notes": header.notes,
    }
    # Optimistic lock: the row moves to version+1 only if it is still the draft this user opened.
    updated = SalesOrder.objects.filter(pk=order.pk, version=version, status__in=EDITABLE).update(
        version=F("version") + 1, updated_at=timezone.now(), **values
    )
    if not updated:
        current = SalesOrder.objects.filter(pk=order.pk).values("status").first()
        if current is not None and current["status"] not in EDITABLE:
            raise DomainError(_("Order %(number)s is no longer a draft and cannot be edited.") % {"number": order.number})
        raise StaleObject(_stale_message(order))
    old_lines = list(order.lines.values_list("product_id", "product__sku", "quantity", "unit_price", "discount_percent"))
    order.lines.all().delete()
    edited = SalesOrder.objects.get(pk=order.pk)
    _store_lines_and_totals(order=edited, lines=lines)
    OrderEvent.record(
        edited,
        kind=OrderEvent.Kind.EDITED,
        actor=actor,
        params=_describe_edit(before=order, after=values, old_lines=old_lines, new_lines=lines),
    )
    return edited


def _stale_message(order: SalesOrder) -> str:
    return _(
        "Someone else saved order %(number)s after you opened it. Your changes were not saved: "
        "open the order again to see the current version."
    ) % {"number": order.number}


def order_duplicate_po_numbers(*, order: SalesOrder) -> list[str]:
    """Other orders of the same customer that carry the same customer PO number (a warning, not a block)."""
    if not order.customer_po:
        return []
    return list(
        SalesOrder.objects.filter(customer_id=order.customer_id, customer_po__iexact=order.customer_po)
        .exclude(pk=order.pk)
        .order_by("number")
        .values_list("number", flat=True)[:5]
    )


# What the submit transition changes (SalesOrder.submit); the rest of the row is left as it is.
SUBMIT_FIELDS = ["submitted_at", "version", "updated_at"]


@transaction.atomic
def order_submit(*, order: SalesOrder, by, locked: bool = False) -> SalesOrder:
    """A draft with lines, a shipping address and an unblocked customer is submitted; the automatic
    checks run after commit (an outbox event: a broker outage delays them, never loses them).
    `locked`: the caller holds the row already (it created or saved it in this transaction)."""
    return _submit(order=order, by=by, locked=locked)


def _submit(*, order: SalesOrder, by, locked: bool) -> SalesOrder:
    submitted = transition_apply(obj=order, transition="submit", actor=by, lock=not locked, update_fields=SUBMIT_FIELDS)
    _check_own_order(order=submitted, actor=Actor.of(by))  # after the role's refusal; rolls the step back
    return submitted


@transaction.atomic
def order_save_and_submit(
    *, order: SalesOrder | None, version: int | None, header: OrderHeader, lines: list[LineInput], by
) -> SalesOrder:
    """Save the draft and submit it in one transaction: if the submission is refused, nothing is saved."""
    if order is None:
        saved = _create(header=header, lines=lines, by=by)
    else:
        saved = order_update_draft(order=order, version=version, header=header, lines=lines, by=by)
    # The row was written in this transaction (inserted, or updated under its version): it is ours.
    return _submit(order=saved, by=by, locked=True)


@transaction.atomic
def order_cancel(*, order: SalesOrder, by, reason: str) -> SalesOrder:
    """Before the first shipment an order may be cancelled with a reason; its reservations are released."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the order is cancelled."), field="reason")
    cancelled = transition_apply(obj=order, transition="cancel", actor=by, note=reason)
    _check_own_order(order=cancelled, actor=Actor.of(by))  # after the role's refusal; rolls the step back
    order_release_stock(order=cancelled, by=by)
    return cancelled


@transaction.atomic
def order_reopen(*, order: SalesOrder, by) -> SalesOrder:
    """A rejected order goes back to draft so sales can fix it and submit it again."""
    reopened = transition_apply(obj=order, transition="reopen", actor=by)
    _check_own_order(order=reopened, actor=Actor.of(by))  # after the role's refusal; rolls the step back
    SalesOrder.objects.filter(pk=reopened.pk).update(version=F("version") + 1)
    reopened.refresh_from_db(fields=["version"])
    return reopened
