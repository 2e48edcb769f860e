"""Writes of the channel API: clients and their tokens, orders pushed in, forgetting old idempotency keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient, ChannelCustomer, IdempotencyKey
from api.scopes import SCOPES, permissions_of
from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from customers.models import Address, Customer
from customers.services import address_create, customer_create
from inventory.models import Product
from orders.entry.services import (
    LineInput,
    OrderHeader,
    line_problems,
    order_create,
    order_refuse_duplicate_ref,
    order_submit,
    user_may_override_price,
)
from orders.models import Channel, SalesOrder

TOKEN_PREFIX = "soms_"


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256 (hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_actor(client: ApiClient) -> Actor:
    """The client acting as a channel, with the permissions its scopes grant (never its account's roles)."""
    return Actor.channel(client.name, permissions_of(client.scopes), user=client.user)


def _clean_scopes(scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise DomainError(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)}, field="scopes")
    if not scopes:
        raise DomainError(_("Choose at least one scope."), field="scopes")
    return [scope for scope in SCOPES if scope in scopes]


@transaction.atomic
def api_client_create(
    *, name: str, channel: str, scopes: list[str], rate_limit_per_minute: int = 120, by: Actor | object
) -> tuple[ApiClient, str]:
    """A new client with a fresh token (32 random bytes); only its SHA-256 is kept, so the token is shown once."""
    actor = Actor.of(by)
    if not actor.has_perm("api.add_apiclient"):
        raise PermissionRefused(_("You are not allowed to create API clients."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the client a name."), field="name")
    if len(name) > 60:
        raise DomainError(_("The name may have at most 60 characters."), field="name")
    if channel not in Channel.values:
        raise DomainError(_("Unknown channel."), field="channel")
    if not 1 <= rate_limit_per_minute <= 100_000:
        raise DomainError(_("The rate limit must be between 1 and 100,000 requests per minute."), field="rate_limit_per_minute")
    if ApiClient.objects.filter(name__iexact=name).exists():
        raise DomainError(_("A client with this name exists already."), field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    # The client's own account: orders it enters are recorded as entered by it; it can never sign in.
    User = get_user_model()
    account = User(username=f"api-client-{secrets.token_hex(6)}", first_name=name[:150], is_active=False)
    account.set_unusable_password()
    account.save()
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(
                name=name,
                channel=channel,
                token_hash=token_digest(token),
                token_prefix=token[:12],
                scopes=_clean_scopes(list(scopes)),
                rate_limit_per_minute=rate_limit_per_minute,
                user=account,
                created_by=actor.user_or_none,
            )
    except IntegrityError:  # the same name created at the same moment by someone else
        raise DomainError(_("A client with this name exists already."), field="name")
    return client, token


@transaction.atomic
def api_client_revoke(*, client: ApiClient, by: Actor | object) -> ApiClient:
    """The token stops working at once; the client and what it entered stay for the record."""
    actor = Actor.of(by)
    if not actor.has_perm("api.revoke_apiclient"):
        raise PermissionRefused(_("You are not allowed to revoke API clients."))
    locked = ApiClient.objects.select_for_update().get(pk=client.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor.user_or_none
        locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def api_client_touch(*, client: ApiClient) -> None:
    """Remember when the client was last seen, at most once a minute (no write per request)."""
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


def idempotency_keys_delete_expired() -> int:
    """Keys older than API_IDEMPOTENCY_KEEP_HOURS (never under a day) are forgotten."""
    hours = max(int(settings.API_IDEMPOTENCY_KEEP_HOURS), 24)
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours)).delete()
    return deleted


# --- orders pushed in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerInput:
    """Who orders: an existing customer by code, or one the channel knows by its own id (created the first time)."""

    code: str = ""
    external_id: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class AddressInput:
    recipient: str
    line1: str
    city: str
    phone: str = ""
    line2: str = ""
    province: str = ""
    postal_code: str = ""
    country: str = "CN"


@dataclass(frozen=True)
class LineRequest:
    """One line as a channel sends it: a SKU or a barcode, a quantity, and optionally price and discount."""

    quantity: int
    sku: str = ""
    barcode: str = ""
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None


@dataclass(frozen=True)
class OrderRequest:
    external_ref: str
    customer: CustomerInput
    lines: list[LineRequest]
    shipping_address: AddressInput | None = None
    requested_date: date | None = None
    notes: str = ""
    customer_po: str = ""


def _validation_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _products_for(lines: list[LineRequest]) -> tuple[list[Product | None], list[dict]]:
    """Each line's product by SKU or barcode (two queries for the whole order), and the lines naming none."""
    skus = {line.sku for line in lines if line.sku}
    barcodes = {line.barcode for line in lines if line.barcode}
    by_sku = {product.sku: product for product in Product.objects.filter(sku__in=skus)} if skus else {}
    by_barcode = {product.barcode: product for product in Product.objects.filter(barcode__in=barcodes)} if barcodes else {}
    products: list[Product | None] = []
    problems = []
    for position, line in enumerate(lines, start=1):
        product = by_sku.get(line.sku) if line.sku else by_barcode.get(line.barcode)
        if product is None:
            field = "sku" if line.sku else "barcode"
            problems.append(
                {
                    "position": position,
                    "field": field,
                    "message": _("No product has the %(field)s %(code)s.")
                    % {"field": _("SKU") if line.sku else _("barcode"), "code": line.sku or line.barcode},
                }
            )
        products.append(product)
    return products, problems


def _line_inputs(*, lines: list[LineRequest], actor: Actor) -> list[LineInput]:
    """The lines priced (list price unless given) and checked as the order form checks them; every problem per line."""
    products, problems = _products_for(lines)
    may_override = user_may_override_price(actor)
    inputs = []
    for position, (line, product) in enumerate(zip(lines, products, strict=True), start=1):
        if product is None:
            continue
        unit_price = product.list_price if line.unit_price is None else line.unit_price
        discount = line.discount_percent if line.discount_percent is not None else Decimal("0")
        for field, message in line_problems(
            product=product,
            quantity=line.quantity,
            unit_price=unit_price,
            discount_percent=discount,
            may_override_price=may_override,
        ):
            if field == "product":
                field = "sku" if line.sku else "barcode"
            elif field == "__all__":
                field = ""
            problems.append({"position": position, "field": field, "message": str(message)})
        inputs.append(LineInput(product=product, quantity=line.quantity, unit_price=unit_price, discount_percent=discount))
    if problems:
        problems.sort(key=lambda problem: problem["position"])
        raise DomainError(_("Some lines cannot be ordered: see the lines."), code="invalid_lines", items=problems)
    return inputs


def _customer_for(*, wanted: CustomerInput, channel: str, actor: Actor) -> Customer:
    if wanted.code:
        customer = Customer.objects.filter(code=wanted.code).first()
        if customer is None:
            raise DomainError(
                _("No customer has the code %(code)s.") % {"code": wanted.code}, code="unknown_customer", field="customer.code"
            )
        return customer
    if wanted.external_id:
        known = ChannelCustomer.objects.filter(channel=channel, external_id=wanted.external_id).select_related("customer").first()
        if known is not None:
            return known.customer
    try:
        customer = customer_create(
            data={"name": wanted.name, "phone": wanted.phone, "email": wanted.email}, by=actor, params={"via": "order"}
        )
    except ValidationError as error:
        raise DomainError(_validation_text(error), code="invalid_customer", field="customer")
    if wanted.external_id:
        try:
            with transaction.atomic():
                ChannelCustomer.objects.create(channel=channel, external_id=wanted.external_id, customer=customer)
        except IntegrityError:  # the same new customer pushed twice at the same moment
            raise DomainError(
                _("The customer %(id)s is being created by another request; send the order again.") % {"id": wanted.external_id},
                code="conflict",
                field="customer.external_id",
            )
    return customer


def _address_for(*, customer: Customer, wanted: AddressInput | None, actor: Actor) -> Address:
    """The address sent (the customer's identical one when it has it), else the customer's default shipping address."""
    addresses = Address.objects.filter(customer=customer, kind=Address.Kind.SHIPPING)
    if wanted is None:
        address = addresses.order_by("-is_default", "pk").first()
        if address is None:
            raise DomainError(
                _("The customer has no shipping address: send one with the order."),
                code="address_required",
                field="shipping_address",
            )
        return address
    data = {
        "kind": Address.Kind.SHIPPING,
        "recipient": wanted.recipient,
        "phone": wanted.phone,
        "line1": wanted.line1,
        "line2": wanted.line2,
        "city": wanted.city,
        "province": wanted.province,
        "postal_code": wanted.postal_code,
        "country": wanted.country,
    }
    same = addresses.filter(**{key: value for key, value in data.items() if key != "kind"}).order_by("pk").first()
    if same is not None:
        return same
    try:
        return address_create(customer=customer, data=data, by=actor)
    except ValidationError as error:
        raise DomainError(_validation_text(error), code="invalid_address", field="shipping_address")


@transaction.atomic
def order_intake(*, request: OrderRequest, channel: str, by: Actor) -> SalesOrder:
    """A channel's order is entered and submitted in one step, through the same services as the order form;
    the automatic checks follow after commit. One order per channel and external reference."""
    actor = Actor.of(by)
    if not actor.has_perm("orders.add_salesorder"):
        raise PermissionRefused(_("You are not allowed to enter orders."))
    external_ref = request.external_ref.strip()
    order_refuse_duplicate_ref(channel=channel, external_ref=external_ref)
    lines = _line_inputs(lines=request.lines, actor=actor)
    customer = _customer_for(wanted=request.customer, channel=channel, actor=actor)
    address = _address_for(customer=customer, wanted=request.shipping_address, actor=actor)
    header = OrderHeader(
        customer=customer,
        shipping_address=address,
        channel=channel,
        customer_po=request.customer_po,
        requested_date=request.requested_date,
        notes=request.notes,
        external_ref=external_ref,
    )
    try:
        with transaction.atomic():
            order = order_create(header=header, lines=lines, by=actor)
    except IntegrityError:
        # The same reference pushed twice at the same moment: the other push committed first.
        order_refuse_duplicate_ref(channel=channel, external_ref=external_ref)
        raise
    return order_submit(order=order, by=actor)
