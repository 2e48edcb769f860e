"""The order's state machine, through the services: every allowed move and every refused one."""

from __future__ import annotations

import pytest
from django.db import transaction

from config.actors import Actor
from config.errors import DomainError
from config.transitions import transition_apply
from orders.entry import services
from orders.models import BEFORE_FIRST_SHIPMENT, OrderEvent, OrderStatus, PaymentStatus, SalesOrder
from orders.tests.factories import customer_with_address, draft_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

S = OrderStatus
ALL_STATES = [state for state, _label in OrderStatus.choices]

# The design's table (DESIGN.md, "The order's life"): transition -> (sources, target).
TRANSITIONS = {
    "submit": ([S.DRAFT], S.SUBMITTED),
    "pass_checks": ([S.SUBMITTED], S.APPROVED),
    "flag_for_review": ([S.SUBMITTED], S.IN_REVIEW),
    "approve": ([S.IN_REVIEW], S.APPROVED),
    "reject": ([S.IN_REVIEW], S.REJECTED),
    "reopen": ([S.REJECTED], S.DRAFT),
    "allocate": ([S.APPROVED, S.BACKORDERED], S.ALLOCATED),
    "backorder": ([S.APPROVED, S.ALLOCATED, S.BACKORDERED], S.BACKORDERED),
    "ship_part": ([S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED], S.PARTIALLY_SHIPPED),
    "ship_rest": ([S.ALLOCATED, S.BACKORDERED, S.PARTIALLY_SHIPPED], S.SHIPPED),
    "deliver": ([S.SHIPPED], S.DELIVERED),
    "complete": ([S.DELIVERED], S.COMPLETED),
    "cancel": (list(BEFORE_FIRST_SHIPMENT), S.CANCELLED),
    "close_short": ([S.BACKORDERED, S.PARTIALLY_SHIPPED], S.SHIPPED),
}
CASES = [(name, state) for name in TRANSITIONS for state in ALL_STATES]
SYSTEM = Actor.system("system")

# What the lines must say for a conditioned transition to be allowed from its source states.
LINES_FOR = {
    "ship_part": {"quantity_shipped": 1},
    "ship_rest": {"quantity_shipped": 2},
    "deliver": {"quantity_shipped": 2},
    "complete": {"quantity_shipped": 2, "quantity_invoiced": 2},
    "close_short": {"quantity_shipped": 1, "quantity_cancelled": 1},
}
# What the order must say besides: completing needs billing's verdict that it is paid.
ORDER_FOR = {"complete": {"payment_status": PaymentStatus.PAID}}


def order_in(state: str, *, by) -> SalesOrder:
    """A real draft moved to `state` for the test (a fixture shortcut: the app itself never does this)."""
    order = draft_order(by=by)
    SalesOrder.objects.filter(pk=order.pk).update(status=state)
    return SalesOrder.objects.get(pk=order.pk)


def fresh(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.get(pk=order.pk)


@pytest.mark.parametrize(("name", "state"), CASES, ids=[f"{n}-from-{s}" for n, s in CASES])
def test_each_transition_moves_only_from_its_source_states(make_user, name, state):
    clerk = make_user("sales")
    order = order_in(state, by=clerk)
    order.lines.update(**LINES_FOR.get(name, {}))  # the draft's line has quantity 2
    SalesOrder.objects.filter(pk=order.pk).update(**ORDER_FOR.get(name, {}))
    events_before = order.events.count()
    sources, target = TRANSITIONS[name]
    if state in sources:
        with transaction.atomic():
            moved = transition_apply(obj=order, transition=name, actor=SYSTEM, note="test")
        assert fresh(order).status == target == moved.status
        event = order.events.order_by("-pk").first()
        assert (event.kind, event.from_state, event.to_state, event.note) == (OrderEvent.Kind.TRANSITION, state, target, "test")
    else:
        with pytest.raises(DomainError), transaction.atomic():
            transition_apply(obj=order, transition=name, actor=SYSTEM)
        assert fresh(order).status == state
        assert order.events.count() == events_before


@pytest.mark.parametrize("name", ["ship_part", "ship_rest", "deliver", "close_short", "complete"])
def test_fulfilment_transitions_need_their_line_quantities(make_user, name):
    """The state alone is not enough: shipping and completing follow from the lines' quantities."""
    sources, _target = TRANSITIONS[name]
    order = order_in(sources[0], by=make_user("sales"))
    with pytest.raises(DomainError), transaction.atomic():
        transition_apply(obj=order, transition=name, actor=SYSTEM)
    assert fresh(order).status == sources[0]


def test_a_delivered_invoiced_order_completes_only_once_paid(make_user):
    order = order_in(S.DELIVERED, by=make_user("sales"))
    order.lines.update(**LINES_FOR["complete"])
    for unpaid in [PaymentStatus.UNPAID, PaymentStatus.PARTLY_PAID, PaymentStatus.OVERDUE]:
        SalesOrder.objects.filter(pk=order.pk).update(payment_status=unpaid)
        with pytest.raises(DomainError, match="not paid"), transaction.atomic():
            transition_apply(obj=order, transition="complete", actor=SYSTEM)
        assert fresh(order).status == S.DELIVERED
    SalesOrder.objects.filter(pk=order.pk).update(payment_status=PaymentStatus.REFUNDED)
    with transaction.atomic():
        transition_apply(obj=order, transition="complete", actor=SYSTEM)
    assert fresh(order).status == S.COMPLETED


# --- the order entry services ------------------------------------------------------------------


def test_clerk_submits_a_complete_draft(make_user):
    clerk = make_user("sales")
    order = draft_order(by=clerk)
    submitted = services.order_submit(order=order, by=clerk)
    assert submitted.status == S.SUBMITTED
    assert submitted.submitted_at is not None
    assert submitted.version == order.version + 1
    last = submitted.events.order_by("-pk").first()
    assert (last.from_state, last.to_state, last.by) == (S.DRAFT, S.SUBMITTED, clerk)


@pytest.mark.parametrize("state", [s for s in ALL_STATES if s != S.DRAFT])
def test_only_a_draft_can_be_submitted(make_user, state):
    clerk = make_user("sales")
    order = order_in(state, by=clerk)
    with pytest.raises(DomainError):
        services.order_submit(order=order, by=clerk)
    assert fresh(order).status == state
    assert fresh(order).submitted_at is None


def test_submitting_for_a_blocked_customer_is_refused_with_the_reason(make_user):
    clerk = make_user("sales")
    customer, address = customer_with_address(is_blocked=True, blocked_reason="Unpaid invoices since March")
    order = draft_order(by=clerk, customer=customer, address=address)
    with pytest.raises(DomainError, match="Unpaid invoices since March"):
        services.order_submit(order=order, by=clerk)
    assert fresh(order).status == S.DRAFT
    assert not order.events.filter(kind=OrderEvent.Kind.TRANSITION).exists()


def test_submitting_without_a_shipping_address_is_refused(make_user):
    clerk = make_user("sales")
    customer, _address = customer_with_address()
    order = draft_order(by=clerk, customer=customer, address=None)
    with pytest.raises(DomainError, match="shipping address"):
        services.order_submit(order=order, by=clerk)
    assert fresh(order).status == S.DRAFT


def test_submitting_an_empty_draft_is_refused(make_user):
    clerk = make_user("sales")
    customer, address = customer_with_address()
    order = services.order_create(header=services.OrderHeader(customer=customer, shipping_address=address), lines=[], by=clerk)
    with pytest.raises(DomainError, match="at least one line"):
        services.order_submit(order=order, by=clerk)
    assert fresh(order).status == S.DRAFT


@pytest.mark.parametrize("role", ["reviewer", "warehouse", "finance", "manager"])
def test_roles_without_the_submit_permission_cannot_submit(make_user, role):
    order = draft_order(by=make_user("sales"))
    with pytest.raises(DomainError, match="not allowed"):
        services.order_submit(order=order, by=make_user(role))
    assert fresh(order).status == S.DRAFT


@pytest.mark.parametrize("state", list(BEFORE_FIRST_SHIPMENT))
def test_an_order_can_be_cancelled_with_a_reason_before_it_ships(make_user, monkeypatch, state):
    released = []
    monkeypatch.setattr(services, "order_release_stock", lambda *, order, by: released.append((order.pk, by)))
    clerk = make_user("sales")
    order = order_in(state, by=clerk)
    cancelled = services.order_cancel(order=order, by=clerk, reason="  Customer changed their mind  ")
    assert fresh(order).status == S.CANCELLED == cancelled.status
    event = order.events.order_by("-pk").first()
    assert (event.from_state, event.to_state, event.note) == (state, S.CANCELLED, "Customer changed their mind")
    assert released == [(order.pk, clerk)]  # the stock hook ran in the same transaction


@pytest.mark.parametrize("state", [s for s in ALL_STATES if s not in BEFORE_FIRST_SHIPMENT])
def test_an_order_that_shipped_cannot_be_cancelled(make_user, state):
    clerk = make_user("sales")
    order = order_in(state, by=clerk)
    events = order.events.count()
    with pytest.raises(DomainError):
        services.order_cancel(order=order, by=clerk, reason="Too late")
    assert fresh(order).status == state
    assert order.events.count() == events


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_cancelling_needs_a_reason(make_user, reason):
    clerk = make_user("sales")
    order = draft_order(by=clerk)
    with pytest.raises(DomainError, match="why"):
        services.order_cancel(order=order, by=clerk, reason=reason)
    assert fresh(order).status == S.DRAFT


def test_warehouse_cannot_cancel_an_order(make_user):
    order = draft_order(by=make_user("sales"))
    with pytest.raises(DomainError, match="not allowed"):
        services.order_cancel(order=order, by=make_user("warehouse"), reason="No stock")
    assert fresh(order).status == S.DRAFT


def test_a_rejected_order_is_reopened_as_a_draft(make_user):
    clerk = make_user("sales")
    order = order_in(S.REJECTED, by=clerk)
    reopened = services.order_reopen(order=order, by=clerk)
    assert reopened.status == S.DRAFT
    assert reopened.version == order.version + 1  # forms opened before the submission are now stale
    event = order.events.order_by("-pk").first()
    assert (event.from_state, event.to_state, event.by) == (S.REJECTED, S.DRAFT, clerk)


@pytest.mark.parametrize("state", [s for s in ALL_STATES if s != S.REJECTED])
def test_only_a_rejected_order_can_be_reopened(make_user, state):
    clerk = make_user("sales")
    order = order_in(state, by=clerk)
    with pytest.raises(DomainError):
        services.order_reopen(order=order, by=clerk)
    assert fresh(order).status == state


def test_submission_queues_the_automatic_checks_after_commit(make_user, django_capture_on_commit_callbacks):
    clerk = make_user("sales")
    order = draft_order(by=clerk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.order_submit(order=order, by=clerk)
    assert len(callbacks) >= 1
    # The review task ran and decided (what happens after approval, e.g. allocation, is not ours).
    decision = order.events.get(from_state=S.SUBMITTED)
    assert decision.to_state in (S.APPROVED, S.IN_REVIEW)
    assert decision.by is None and decision.actor_kind == "system"  # the automatic checks, not a person


def test_a_refused_submission_queues_nothing(make_user, django_capture_on_commit_callbacks):
    clerk = make_user("sales")
    customer, address = customer_with_address(is_blocked=True, blocked_reason="Fraud check")
    order = draft_order(by=clerk, customer=customer, address=address)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(DomainError):
        services.order_submit(order=order, by=clerk)
    assert callbacks == []


def test_an_order_can_be_reread_from_the_database(make_user):
    """The status field is protected, yet refresh_from_db must work and show the stored status."""
    from django.db import transaction

    from orders.tests.factories import draft_order

    clerk = make_user("sales")
    order = draft_order(by=clerk)
    stale = type(order).objects.get(pk=order.pk)
    with transaction.atomic():
        transition_apply(obj=order, transition="cancel", actor=clerk, note="customer withdrew")
    stale.refresh_from_db()
    assert stale.status == "cancelled"
