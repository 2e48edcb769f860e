"""transition_apply, the one way a state machine moves: it checks the state and the actor's
permission, writes exactly one timeline row and the outbox event, and refuses an action without an actor.

The sales order is the state machine under test (tests may reach any app)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from config.outbox import OutboxEvent
from config.transitions import allowed_transitions, transition_apply
from orders.entry.services import order_submit
from orders.models import OrderEvent, OrderStatus, SalesOrder
from orders.tests.factories import customer_with_address, draft_order

pytestmark = pytest.mark.django_db


def ready_draft(*, by) -> SalesOrder:
    """A draft that may be submitted (lines, shipping address, customer not blocked)."""
    customer, address = customer_with_address()
    return draft_order(by=by, customer=customer, address=address)


def order_in(state: str, *, by) -> SalesOrder:
    """A real draft put in `state` for the test (a fixture shortcut: the app never does this)."""
    order = ready_draft(by=by)
    SalesOrder.objects.filter(pk=order.pk).update(status=state)
    return SalesOrder.objects.get(pk=order.pk)


def fresh(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.get(pk=order.pk)


def apply(**kwargs):
    with transaction.atomic():
        return transition_apply(**kwargs)


def test_an_actor_without_the_transitions_permission_is_refused_and_nothing_is_written(make_user):
    order = ready_draft(by=make_user("sales"))
    finance = make_user("finance")  # may see orders, may not submit them
    events = order.events.count()

    with pytest.raises(PermissionRefused) as refused:
        apply(obj=order, transition="submit", actor=finance)

    assert refused.value.code == "permission_denied"
    assert fresh(order).status == OrderStatus.DRAFT
    assert fresh(order).submitted_at is None
    assert order.events.count() == events
    assert not OutboxEvent.objects.exists()


def test_a_transition_the_state_does_not_allow_is_refused_even_for_the_system(make_user):
    order = order_in(OrderStatus.APPROVED, by=make_user("sales"))
    events = order.events.count()

    with pytest.raises(DomainError) as refused:
        apply(obj=order, transition="submit", actor=Actor.system("system"))

    assert refused.value.code == "transition_not_allowed"
    assert order.number in str(refused.value)
    assert fresh(order).status == OrderStatus.APPROVED
    assert order.events.count() == events
    assert not OutboxEvent.objects.exists()


def test_a_transition_writes_exactly_one_timeline_row_with_its_states_and_its_actor(make_user):
    sales = make_user("sales")
    order = ready_draft(by=sales)
    events = order.events.count()

    moved = apply(obj=order, transition="submit", actor=sales, note="customer confirmed by phone")

    assert moved.status == fresh(order).status == OrderStatus.SUBMITTED
    assert order.events.count() == events + 1
    event = order.events.order_by("-pk").first()
    assert (event.kind, event.from_state, event.to_state) == (OrderEvent.Kind.TRANSITION, "draft", "submitted")
    assert (event.by, event.actor_kind, event.actor_name) == (sales, "user", "")
    assert event.note == "customer confirmed by phone"
    assert fresh(order).submitted_at is not None  # what the @transition method sets is saved


def test_a_transition_with_a_handler_publishes_its_outbox_event_in_the_same_transaction(make_user):
    sales = make_user("sales")
    order = ready_draft(by=sales)

    apply(obj=order, transition="submit", actor=sales)

    event = OutboxEvent.objects.get()
    assert event.topic == "orders.salesorder.submit"
    assert event.payload == {"id": order.pk, "from": "draft", "to": "submitted"}


def test_a_transition_nobody_handles_publishes_no_outbox_row(make_user, settings):
    # The reports listen to nearly every move of an order: here nobody listens to reopening.
    settings.OUTBOX_HANDLERS = {
        topic: paths for topic, paths in settings.OUTBOX_HANDLERS.items() if topic != "orders.salesorder.reopen"
    }
    order = order_in(OrderStatus.REJECTED, by=make_user("sales"))

    apply(obj=order, transition="reopen", actor=make_user("sales"))

    assert fresh(order).status == OrderStatus.DRAFT
    assert not OutboxEvent.objects.exists()


def test_a_refused_transition_inside_a_larger_transaction_rolls_back_with_it(make_user):
    sales = make_user("sales")
    order = ready_draft(by=sales)

    with pytest.raises(PermissionRefused), transaction.atomic():
        transition_apply(obj=order, transition="submit", actor=sales)
        transition_apply(obj=order, transition="pass_checks", actor=sales)  # sales may not approve

    assert fresh(order).status == OrderStatus.DRAFT
    assert not order.events.filter(kind=OrderEvent.Kind.TRANSITION).exists()
    assert not OutboxEvent.objects.exists()


def test_an_action_without_an_actor_is_refused(make_user):
    order = ready_draft(by=make_user("sales"))

    with pytest.raises(ValueError):
        Actor.of(None)
    with pytest.raises(ValueError):
        Actor.of(AnonymousUser())
    with pytest.raises(ValueError):
        apply(obj=order, transition="submit", actor=None)
    with pytest.raises(ValueError):
        order_submit(order=order, by=None)

    assert fresh(order).status == OrderStatus.DRAFT
    assert not OutboxEvent.objects.exists()


def test_the_system_may_fire_a_transition_that_needs_a_permission(make_user):
    order = order_in(OrderStatus.SUBMITTED, by=make_user("sales"))
    checks = Actor.system("automatic_checks")
    assert not checks.user_or_none

    moved = apply(obj=order, transition="pass_checks", actor=checks, params={"checks": "passed"})

    assert moved.status == OrderStatus.APPROVED
    event = order.events.order_by("-pk").first()
    assert (event.by, event.actor_kind, event.actor_name) == (None, "system", "automatic_checks")
    assert event.params == {"checks": "passed"}
    assert event.note == ""


def test_an_unknown_system_name_is_refused():
    with pytest.raises(ValueError):
        Actor.system("someone")


def test_a_channel_may_fire_only_what_its_scopes_grant(make_user):
    order = ready_draft(by=make_user("sales"))
    shop_without_submit = Actor.channel("web shop", {"orders.add_salesorder"})
    shop = Actor.channel("web shop", {"orders.add_salesorder", "orders.submit_salesorder"})

    with pytest.raises(PermissionRefused):
        apply(obj=order, transition="submit", actor=shop_without_submit)
    apply(obj=order, transition="submit", actor=shop)

    event = order.events.order_by("-pk").first()
    assert (event.to_state, event.actor_kind, event.actor_name, event.by) == ("submitted", "channel", "web shop", None)


def test_allowed_transitions_are_exactly_those_transition_apply_would_accept(make_user):
    sales, reviewer = make_user("sales"), make_user("reviewer")
    order = order_in(OrderStatus.SUBMITTED, by=sales)
    names = ["submit", "pass_checks", "flag_for_review", "approve", "reject", "cancel", "allocate"]

    assert allowed_transitions(order, reviewer, names) == {"pass_checks", "flag_for_review"}
    assert allowed_transitions(order, sales, names) == {"cancel"}
    assert allowed_transitions(order, Actor.system("system"), names) == {"pass_checks", "flag_for_review", "cancel"}
    for name in names:
        for actor in (sales, reviewer):
            expected = name in allowed_transitions(order, actor, [name])
            try:
                with transaction.atomic():
                    transition_apply(obj=order, transition=name, actor=actor)
                    raise _Undo
            except _Undo:
                accepted = True
            except DomainError:
                accepted = False
            assert accepted == expected, (name, actor)
    assert fresh(order).status == OrderStatus.SUBMITTED


class _Undo(Exception):
    """Rolls back a transition that was only tried."""
