"""Every write to customers: the customer, its addresses and contacts, blocks, and complaints.

Each service takes who acts (`by`: a user or a config.actors.Actor), checks the permission the
action needs, locks what it changes, writes one timeline row (CustomerEvent) and runs in one
transaction, so a refused action leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.numbering import document_number
from config.outbox import outbox_publish
from config.transitions import transition_apply

from .events import diff, snapshot
from .models import Address, Complaint, Contact, CreditChangeRequest, Customer, CustomerEvent

CUSTOMER_FIELDS = [
    "name",
    "alt_name",
    "kind",
    "tax_id",
    "phone",
    "email",
    "language",
    "credit_limit",
    "credit_rating",
    "payment_terms_days",
    "prepayment_required",
    "segment",
    "tags",
    "salesperson",
    "notes",
]
# Credit terms are finance's decision: changing them needs this permission (finance, managers), by
# any path (pages, import, admin, API); sales ask for a change instead (credit_request_create).
CREDIT_FIELDS = ["credit_limit", "credit_rating", "payment_terms_days", "prepayment_required"]
CREDIT_PERMISSION = "customers.change_credit_terms"
ADDRESS_FIELDS = ["kind", "recipient", "phone", "line1", "line2", "city", "province", "postal_code", "country"]
CONTACT_FIELDS = ["name", "title", "phone", "email"]
COMPLAINT_FIELDS = ["order", "category", "subject", "description", "assignee"]
COMPLAINT_ACTIONS = ["start", "resolve", "close", "reopen"]
BLOCK_REASON_MAX = 300


def _assign(instance, data: Mapping[str, Any], allowed: list[str]) -> None:
    for name in allowed:
        if name in data:
            setattr(instance, name, data[name])


def _validate(instance, *, exclude: list[str] | None = None) -> None:
    """Model validation (lengths, choices, ranges) also for callers that skip forms, e.g. imports."""
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def _actor(by: Actor | Any, permission: str) -> Actor:
    """Who acts, refused unless they hold the permission the action needs (the system always may)."""
    actor = Actor.of(by)
    if not actor.has_perm(permission):
        raise PermissionRefused(_("You are not allowed to do that."))
    return actor


def credit_terms_of(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in CREDIT_FIELDS}


def credit_terms_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The credit fields whose value differs (1000 and 1000.00 are the same limit)."""
    return [name for name in CREDIT_FIELDS if name in after and before.get(name) != after[name]]


def credit_terms_refusal(changed: list[str]) -> PermissionRefused:
    return PermissionRefused(
        _(
            "Only finance or a manager may change the credit limit, credit rating or payment terms. "
            "Ask for a credit change on the customer's page instead."
        ),
        code="credit_terms",
        field=changed[0] if changed else None,
    )


def _check_credit_terms(actor: Actor, *, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """Refuse a change of credit terms by an actor without finance's permission."""
    changed = credit_terms_changed(before, after)
    if changed and not actor.has_perm(CREDIT_PERMISSION):
        raise credit_terms_refusal(changed)


def new_customer_credit_terms() -> dict[str, Any]:
    """What a new customer starts with: the configured default limit (0: every credit order is reviewed)."""
    return {
        "credit_limit": settings.DEFAULT_CREDIT_LIMIT,
        "credit_rating": Customer._meta.get_field("credit_rating").default,
        "payment_terms_days": Customer._meta.get_field("payment_terms_days").default,
        "prepayment_required": False,
    }


def customer_lock(*, customer_id: int) -> Customer:
    """Re-read the customer under a row lock before changing it or its addresses."""
    try:
        return Customer.objects.select_for_update().get(pk=customer_id)
    except Customer.DoesNotExist:
        raise DomainError(_("This customer no longer exists."), code="not_found")


# --- customers ----------------------------------------------------------------------------------


@transaction.atomic
def customer_create(
    *,
    data: Mapping[str, Any],
    by: Actor | Any,
    event_kind: str = CustomerEvent.Kind.CREATED,
    params: dict | None = None,
    note: str = "",
) -> Customer:
    """A new customer gets the next code (C000123), the default credit terms unless finance sets
    others, and a "created" row on its timeline.

    `params` say how it came in (e.g. {"via": "order"}, {"file": name}), worded when shown.
    """
    actor = _actor(by, "customers.add_customer")
    customer = Customer(**new_customer_credit_terms())
    before = credit_terms_of(customer)
    _assign(customer, data, CUSTOMER_FIELDS)
    _check_credit_terms(actor, before=before, after=credit_terms_of(customer))
    _validate(customer, exclude=["code"])
    customer.code = document_number("customer")
    customer.save()
    CustomerEvent.record(
        customer,
        kind=event_kind,
        actor=actor,
        params=params,
        note=note,
        changes=diff({}, {k: v for k, v in snapshot(customer, CUSTOMER_FIELDS).items() if v not in ("", None)}),
    )
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    data: Mapping[str, Any],
    by: Actor | Any,
    loaded_at: datetime | None = None,
    event_kind: str = CustomerEvent.Kind.EDITED,
    params: dict | None = None,
    note: str = "",
) -> Customer:
    """Save edits with a field-level old → new record; refuse an edit based on an outdated page, and a
    change of credit terms by anyone without finance's permission."""
    actor = _actor(by, "customers.change_customer")
    locked = customer_lock(customer_id=customer.pk)
    if loaded_at is not None and locked.updated_at != loaded_at:
        raise DomainError(
            _("Someone else changed this customer since you opened it. Reload the page and try again."), code="stale"
        )
    before = snapshot(locked, CUSTOMER_FIELDS)
    credit_before = credit_terms_of(locked)
    _assign(locked, data, CUSTOMER_FIELDS)
    _check_credit_terms(actor, before=credit_before, after=credit_terms_of(locked))
    _validate(locked)
    changes = diff(before, snapshot(locked, CUSTOMER_FIELDS))
    if changes:
        locked.save()
        CustomerEvent.record(locked, kind=event_kind, actor=actor, params=params, note=note, changes=changes)
    return locked


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason."), field="reason")
    if len(reason) > BLOCK_REASON_MAX:
        raise DomainError(_("Keep the reason under %(n)s characters.") % {"n": BLOCK_REASON_MAX}, field="reason")
    return reason


@transaction.atomic
def customer_block(*, customer: Customer, reason: str, by: Actor | Any) -> Customer:
    """A blocked customer's orders go to review; blocking always states why."""
    actor = _actor(by, "customers.block_customer")
    reason = _clean_reason(reason)
    locked = customer_lock(customer_id=customer.pk)
    if locked.is_blocked:
        raise DomainError(_("%(customer)s is already blocked.") % {"customer": locked.name})
    locked.is_blocked = True
    locked.blocked_reason = reason
    locked.save(update_fields=["is_blocked", "blocked_reason", "updated_at"])
    CustomerEvent.record(
        locked,
        kind=CustomerEvent.Kind.BLOCKED,
        actor=actor,
        note=reason,
        changes=[{"field": "is_blocked", "old": False, "new": True}],
    )
    return locked


@transaction.atomic
def customer_unblock(*, customer: Customer, reason: str, by: Actor | Any) -> Customer:
    """Lifting a block also states why; the old reason stays on the timeline."""
    actor = _actor(by, "customers.block_customer")
    reason = _clean_reason(reason)
    locked = customer_lock(customer_id=customer.pk)
    if not locked.is_blocked:
        raise DomainError(_("%(customer)s is not blocked.") % {"customer": locked.name})
    old_reason = locked.blocked_reason
    locked.is_blocked = False
    locked.blocked_reason = ""
    locked.save(update_fields=["is_blocked", "blocked_reason", "updated_at"])
    CustomerEvent.record(
        locked,
        kind=CustomerEvent.Kind.UNBLOCKED,
        actor=actor,
        note=reason,
        changes=[{"field": "is_blocked", "old": True, "new": False}, {"field": "blocked_reason", "old": old_reason, "new": ""}],
    )
    return locked


# Kinds of timeline rows that higher apps (billing's dunning) write about a customer.
BILLING_EVENT_KINDS = {
    CustomerEvent.Kind.PAYMENT_REMINDER,
    CustomerEvent.Kind.CREDIT_HOLD,
    CustomerEvent.Kind.CREDIT_HOLD_RELEASED,
}


def customer_record_billing_event(
    *, customer: Customer, kind: str, params: dict, by: Actor | Any, note: str = ""
) -> CustomerEvent:
    """Billing notes a reminder sent, or a credit hold placed or released, on the customer's timeline
    (in the caller's transaction; `params` are data, worded when the timeline is read)."""
    if kind not in BILLING_EVENT_KINDS:
        raise ValueError(f"not a billing event kind: {kind!r}")
    return CustomerEvent.record(customer, kind=kind, actor=Actor.of(by), params=params, note=note)


# --- credit change requests ---------------------------------------------------------------------


def _request_params(request: CreditChangeRequest) -> dict:
    return {"values": snapshot(request, list(request.requested_values()))}


@transaction.atomic
def credit_request_create(*, customer: Customer, data: Mapping[str, Any], reason: str, by: Actor | Any) -> CreditChangeRequest:
    """Sales ask for other credit terms with a reason; the request waits for finance, on the customer's timeline."""
    actor = _actor(by, "customers.change_customer")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the customer needs other credit terms."), field="reason")
    locked = customer_lock(customer_id=customer.pk)
    if CreditChangeRequest.objects.filter(customer=locked, state=CreditChangeRequest.State.PENDING).exists():
        raise DomainError(
            _("A credit change for %(customer)s is already waiting for finance.") % {"customer": locked.name},
            code="already_pending",
        )
    request = CreditChangeRequest(customer=locked, reason=reason, requested_by=actor.user_or_none)
    current = credit_terms_of(locked)
    for name in CreditChangeRequest.FIELDS:
        value = data.get(name)
        if value not in (None, "") and value != current[name]:
            setattr(request, name, value)
    if not request.requested_values():
        raise DomainError(_("Ask for at least one value different from the customer's current terms."), code="no_change")
    _validate(request, exclude=["customer", "state"])
    request.save()
    return transition_apply(
        obj=request,
        transition="submit",
        actor=actor,
        note=reason,
        params=_request_params(request),
        kind=CustomerEvent.Kind.CREDIT_REQUEST,
        lock=False,  # just created in this transaction
    )


def _lock_request(*, request: CreditChangeRequest) -> tuple[Customer, CreditChangeRequest]:
    """Lock the customer, then the request (the order credit_request_create takes them in)."""
    customer = customer_lock(customer_id=request.customer_id)
    return customer, CreditChangeRequest.objects.select_for_update().get(pk=request.pk)


def _check_not_own_request(actor: Actor, request: CreditChangeRequest) -> None:
    if actor.user_or_none is not None and request.requested_by_id == actor.user_or_none.pk:
        raise PermissionRefused(_("Someone other than the requester decides a credit change."), code="own_request")


@transaction.atomic
def credit_request_approve(*, request: CreditChangeRequest, by: Actor | Any, note: str = "") -> CreditChangeRequest:
    """Finance approves a request (never their own): its values are applied to the customer as the approver."""
    actor = Actor.of(by)
    customer, locked = _lock_request(request=request)
    _check_not_own_request(actor, locked)
    locked.decided_by = actor.user_or_none
    locked.decision_note = (note or "").strip()
    approved = transition_apply(
        obj=locked,
        transition="approve",
        actor=actor,
        note=locked.decision_note,
        params=_request_params(locked),
        kind=CustomerEvent.Kind.CREDIT_REQUEST,
        lock=False,  # locked above, where the decision was written on it
    )
    requester = locked.requested_by
    customer_update(
        customer=customer,
        data=approved.requested_values(),
        by=actor,
        note=approved.reason,
        params={
            "credit_request": approved.pk,
            "requester": (requester.get_full_name() or requester.get_username()) if requester else "",
        },
    )
    return approved


@transaction.atomic
def credit_request_reject(*, request: CreditChangeRequest, by: Actor | Any, note: str) -> CreditChangeRequest:
    """Finance declines a request, saying why; the customer keeps its terms."""
    actor = Actor.of(by)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say why the request is rejected."), field="note")
    _customer, locked = _lock_request(request=request)
    _check_not_own_request(actor, locked)
    locked.decided_by = actor.user_or_none
    locked.decision_note = note
    return transition_apply(
        obj=locked,
        transition="reject",
        actor=actor,
        note=note,
        params=_request_params(locked),
        kind=CustomerEvent.Kind.CREDIT_REQUEST,
        lock=False,
    )


# --- addresses ----------------------------------------------------------------------------------


def _address_lock(*, address: Address) -> Address:
    """Re-read the address under a row lock, after its customer's (the order every address change keeps)."""
    locked = Address.objects.select_for_update().filter(pk=address.pk, customer_id=address.customer_id).first()
    if locked is None:  # removed by someone else while this request waited for the customer's lock
        raise DomainError(_("This address was removed meanwhile."), code="not_found")
    return locked


def _make_default_address(*, address: Address) -> None:
    # The partial unique index is checked per statement: clear the old default first.
    Address.objects.filter(customer_id=address.customer_id, kind=address.kind, is_default=True).exclude(pk=address.pk).update(
        is_default=False
    )
    if not address.is_default:
        address.is_default = True
        address.save(update_fields=["is_default"])


def _ensure_default_address(*, customer: Customer, kind: str) -> None:
    """If a kind of address has no default, the oldest one of that kind becomes it."""
    addresses = Address.objects.filter(customer=customer, kind=kind)
    if not addresses.filter(is_default=True).exists():
        first = addresses.order_by("pk").first()
        if first is not None:
            _make_default_address(address=first)


@transaction.atomic
def address_create(*, customer: Customer, data: Mapping[str, Any], make_default: bool = False, by: Actor | Any) -> Address:
    """Add an address; the first of its kind, or one marked so, becomes that kind's default."""
    actor = _actor(by, "customers.change_customer")
    locked = customer_lock(customer_id=customer.pk)
    address = Address(customer=locked)
    _assign(address, data, ADDRESS_FIELDS)
    _validate(address, exclude=["customer"])
    address.save()
    if make_default:
        _make_default_address(address=address)
    else:
        _ensure_default_address(customer=locked, kind=address.kind)
    address.refresh_from_db()
    CustomerEvent.record(
        locked,
        kind=CustomerEvent.Kind.ADDRESS_ADDED,
        actor=actor,
        params={"address": address.one_line()},
        changes=diff({}, snapshot(address, [*ADDRESS_FIELDS, "is_default"])),
    )
    return address


@transaction.atomic
def address_update(*, address: Address, data: Mapping[str, Any], make_default: bool = False, by: Actor | Any) -> Address:
    """Edit an address; moving it to the other kind keeps one default for each kind."""
    actor = _actor(by, "customers.change_customer")
    locked_customer = customer_lock(customer_id=address.customer_id)
    locked = _address_lock(address=address)
    before = snapshot(locked, [*ADDRESS_FIELDS, "is_default"])
    old_kind = locked.kind
    _assign(locked, data, ADDRESS_FIELDS)
    _validate(locked, exclude=["customer"])
    if locked.kind != old_kind and locked.is_default:
        locked.is_default = False  # it was the default of the other kind
    locked.save()
    if make_default:
        _make_default_address(address=locked)
    for kind in {old_kind, locked.kind}:
        _ensure_default_address(customer=locked_customer, kind=kind)
    locked.refresh_from_db()
    changes = diff(before, snapshot(locked, [*ADDRESS_FIELDS, "is_default"]))
    if changes:
        CustomerEvent.record(
            locked_customer,
            kind=CustomerEvent.Kind.ADDRESS_CHANGED,
            actor=actor,
            params={"address": locked.one_line()},
            changes=changes,
        )
    return locked


@transaction.atomic
def address_set_default(*, address: Address, by: Actor | Any) -> Address:
    """Make this address its kind's default; the previous default stops being one, atomically."""
    actor = _actor(by, "customers.change_customer")
    locked_customer = customer_lock(customer_id=address.customer_id)
    locked = _address_lock(address=address)
    if locked.is_default:
        return locked
    _make_default_address(address=locked)
    CustomerEvent.record(
        locked_customer,
        kind=CustomerEvent.Kind.ADDRESS_CHANGED,
        actor=actor,
        params={"address": locked.one_line()},
        changes=[{"field": "is_default", "old": False, "new": True}],
    )
    return locked


@transaction.atomic
def address_delete(*, address: Address, by: Actor | Any) -> None:
    """Remove an address no order uses; if it was the default, the next one of its kind takes over."""
    actor = _actor(by, "customers.change_customer")
    locked_customer = customer_lock(customer_id=address.customer_id)
    locked = Address.objects.select_for_update().filter(pk=address.pk).first()
    if locked is None:
        return
    text, kind = locked.one_line(), locked.kind
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError:
        raise DomainError(
            _("This address is used by orders, so it cannot be removed. Edit it or add a new one instead."), code="in_use"
        )
    _ensure_default_address(customer=locked_customer, kind=kind)
    CustomerEvent.record(locked_customer, kind=CustomerEvent.Kind.ADDRESS_REMOVED, actor=actor, params={"address": text})


# --- contacts -----------------------------------------------------------------------------------


def _contact_lock(*, contact: Contact) -> Contact:
    """Re-read the contact under a row lock, after its customer's (the order every contact change keeps)."""
    locked = Contact.objects.select_for_update().filter(pk=contact.pk, customer_id=contact.customer_id).first()
    if locked is None:  # removed by someone else while this request waited for the customer's lock
        raise DomainError(_("This contact was removed meanwhile."), code="not_found")
    return locked


def _make_primary_contact(*, contact: Contact) -> None:
    Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(pk=contact.pk).update(is_primary=False)
    if not contact.is_primary:
        contact.is_primary = True
        contact.save(update_fields=["is_primary"])


def _ensure_primary_contact(*, customer: Customer) -> None:
    contacts = Contact.objects.filter(customer=customer)
    if not contacts.filter(is_primary=True).exists():
        first = contacts.order_by("pk").first()
        if first is not None:
            _make_primary_contact(contact=first)


@transaction.atomic
def contact_create(*, customer: Customer, data: Mapping[str, Any], make_primary: bool = False, by: Actor | Any) -> Contact:
    """Add a contact person; the first one, or one marked so, is the primary contact."""
    actor = _actor(by, "customers.change_customer")
    locked = customer_lock(customer_id=customer.pk)
    contact = Contact(customer=locked)
    _assign(contact, data, CONTACT_FIELDS)
    _validate(contact, exclude=["customer"])
    contact.save()
    if make_primary:
        _make_primary_contact(contact=contact)
    else:
        _ensure_primary_contact(customer=locked)
    contact.refresh_from_db()
    CustomerEvent.record(
        locked,
        kind=CustomerEvent.Kind.CONTACT_ADDED,
        actor=actor,
        params={"contact": contact.name},
        changes=diff({}, {k: v for k, v in snapshot(contact, [*CONTACT_FIELDS, "is_primary"]).items() if v not in ("", None)}),
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: Mapping[str, Any], make_primary: bool = False, by: Actor | Any) -> Contact:
    """Edit a contact person; at most one contact is primary."""
    actor = _actor(by, "customers.change_customer")
    locked_customer = customer_lock(customer_id=contact.customer_id)
    locked = _contact_lock(contact=contact)
    before = snapshot(locked, [*CONTACT_FIELDS, "is_primary"])
    _assign(locked, data, CONTACT_FIELDS)
    _validate(locked, exclude=["customer"])
    locked.save()
    if make_primary:
        _make_primary_contact(contact=locked)
    locked.refresh_from_db()
    changes = diff(before, snapshot(locked, [*CONTACT_FIELDS, "is_primary"]))
    if changes:
        CustomerEvent.record(
            locked_customer,
            kind=CustomerEvent.Kind.CONTACT_CHANGED,
            actor=actor,
            params={"contact": locked.name},
            changes=changes,
        )
    return locked


@transaction.atomic
def contact_delete(*, contact: Contact, by: Actor | Any) -> None:
    """Remove a contact person (orders that named them keep no link); another becomes primary."""
    actor = _actor(by, "customers.change_customer")
    locked_customer = customer_lock(customer_id=contact.customer_id)
    locked = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if locked is None:
        return
    name = locked.name
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError:
        raise DomainError(_("This contact is still referenced elsewhere, so it cannot be removed."), code="in_use")
    _ensure_primary_contact(customer=locked_customer)
    CustomerEvent.record(locked_customer, kind=CustomerEvent.Kind.CONTACT_REMOVED, actor=actor, params={"contact": name})


# --- complaints ---------------------------------------------------------------------------------


def _check_complaint_order(*, customer: Customer, order) -> None:
    if order is not None and order.customer_id != customer.pk:
        raise DomainError(_("Order %(number)s belongs to another customer.") % {"number": order.number}, field="order")


# Published when a complaint is opened, for whoever counts complaints (the customer reports).
COMPLAINT_OPENED_TOPIC = "customers.complaint_opened"


@transaction.atomic
def complaint_create(*, customer: Customer, data: Mapping[str, Any], by: Actor | Any) -> Complaint:
    """Open a complaint for a customer, optionally about one of that customer's orders."""
    actor = _actor(by, "customers.add_complaint")
    locked = customer_lock(customer_id=customer.pk)
    complaint = Complaint(customer=locked, created_by=actor.user_or_none)
    _assign(complaint, data, COMPLAINT_FIELDS)
    _check_complaint_order(customer=locked, order=complaint.order)
    _validate(complaint, exclude=["customer", "number", "state"])
    complaint.number = document_number("complaint")
    complaint.save()
    CustomerEvent.record(
        complaint,
        kind=CustomerEvent.Kind.COMPLAINT_OPENED,
        actor=actor,
        params={"number": complaint.number, "subject": complaint.subject},
        to_state=complaint.state,
    )
    outbox_publish(topic=COMPLAINT_OPENED_TOPIC, payload={"id": complaint.pk, "customer": locked.pk})
    return complaint


def complaint_lock(*, complaint_id: int) -> Complaint:
    try:
        return Complaint.objects.select_for_update().get(pk=complaint_id)
    except Complaint.DoesNotExist:
        raise DomainError(_("This complaint no longer exists."), code="not_found")


@transaction.atomic
def complaint_update(*, complaint: Complaint, data: Mapping[str, Any], by: Actor | Any) -> Complaint:
    """Edit what a complaint is about or who works on it; a closed complaint is reopened first."""
    actor = _actor(by, "customers.change_complaint")
    locked = complaint_lock(complaint_id=complaint.pk)
    if not locked.is_editable:
        raise DomainError(_("A closed complaint cannot be edited. Reopen it first."))
    before = snapshot(locked, COMPLAINT_FIELDS)
    _assign(locked, data, COMPLAINT_FIELDS)
    _check_complaint_order(customer=locked.customer, order=locked.order)
    _validate(locked, exclude=["customer", "number", "state"])
    changes = diff(before, snapshot(locked, COMPLAINT_FIELDS))
    if changes:
        locked.save()
        CustomerEvent.record(
            locked,
            kind=CustomerEvent.Kind.COMPLAINT_CHANGED,
            actor=actor,
            params={"number": locked.number},
            changes=changes,
        )
    return locked


@transaction.atomic
def complaint_transition(
    *, complaint: Complaint, action: str, by: Actor | Any, note: str = "", resolution: str | None = None
) -> Complaint:
    """Move a complaint along open → in progress → resolved → closed (or reopen it), on its customer's timeline.

    Resolving needs a written resolution; whoever starts an unassigned complaint takes it.
    """
    if action not in COMPLAINT_ACTIONS:
        raise DomainError(_("Unknown action."), code="unknown_action")
    actor = Actor.of(by)
    locked = complaint_lock(complaint_id=complaint.pk)
    if resolution is not None:
        locked.resolution = resolution.strip()
    if action == "resolve" and can_proceed(locked.resolve, check_conditions=False) and not locked.has_resolution():
        # The one condition the user fixes on the form: the message belongs to the resolution field.
        raise DomainError(locked.transition_problems("resolve")[0], code="transition_not_allowed", field="resolution")
    if action == "start" and locked.assignee_id is None and actor.user_or_none is not None:
        locked.assignee = actor.user_or_none
    return transition_apply(
        obj=locked,
        transition=action,
        actor=actor,
        note=(note or "").strip(),
        kind=CustomerEvent.Kind.COMPLAINT_STATE,
        lock=False,  # locked above, where the resolution was written on it
    )
