"""The outbox: what a business transaction publishes is handled after commit, exactly once, and is
never lost when the broker or a handler is down (the dispatcher catches up)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.models import WorkerHeartbeat
from config.outbox import (
    MAX_ATTEMPTS,
    OutboxEvent,
    outbox_database_only,
    outbox_dispatch,
    outbox_pending_count,
    outbox_publish,
    own_transactions,
)
from config.tasks import dispatch_outbox
from inventory.models import Reservation, ReservationState, StockLevel
from inventory.tests.factories import WarehouseFactory, stocked_product
from orders.entry.services import order_submit
from orders.models import OrderEvent, OrderStatus, SalesOrder
from orders.tests.factories import customer_with_address, draft_order

TOPIC = "test.something_happened"
HERE = __name__

# What the test handlers did, in order (reset before each test).
CALLS: list[tuple[str, dict]] = []
FLAKY = {"failures_left": 0, "quick_failures_left": 0}


def remember(payload: dict) -> None:
    """A handler that records its call and writes one row (its database effect)."""
    CALLS.append(("remember", payload))
    WorkerHeartbeat.objects.create(worker=f"remember-{payload['key']}", last_seen=timezone.now())


def flaky(payload: dict) -> None:
    """A handler that writes a row, then fails while `failures_left` is above zero."""
    CALLS.append(("flaky", payload))
    WorkerHeartbeat.objects.create(worker=f"flaky-{payload['key']}-{len(CALLS)}", last_seen=timezone.now())
    if FLAKY["failures_left"] > 0:
        FLAKY["failures_left"] -= 1
        raise ConnectionError("the mail server is down")


def always_fails(payload: dict) -> None:
    CALLS.append(("always_fails", payload))
    raise RuntimeError("never works")


@outbox_database_only
def quick(payload: dict) -> None:
    """A database-only handler that writes one row."""
    CALLS.append(("quick", payload))
    WorkerHeartbeat.objects.create(worker=f"quick-{payload['key']}-{len(CALLS)}", last_seen=timezone.now())


@outbox_database_only
def quick_flaky(payload: dict) -> None:
    """A database-only handler that writes a row, then fails while `failures_left` is above zero."""
    CALLS.append(("quick_flaky", payload))
    WorkerHeartbeat.objects.create(worker=f"quick_flaky-{payload['key']}-{len(CALLS)}", last_seen=timezone.now())
    if FLAKY["quick_failures_left"] > 0:
        FLAKY["quick_failures_left"] -= 1
        raise ConnectionError("lock timeout")


@pytest.fixture(autouse=True)
def _fresh_handlers():
    CALLS.clear()
    FLAKY.update(failures_left=0, quick_failures_left=0)
    yield
    CALLS.clear()


def handlers(settings, *names: str) -> None:
    settings.OUTBOX_HANDLERS = {TOPIC: [f"{HERE}.{name}" for name in names]}


def due_now(event: OutboxEvent) -> None:
    """Time passes until the event's retry is due (the dispatcher's backoff is minutes, a test is not)."""
    OutboxEvent.objects.filter(pk=event.pk).update(available_at=timezone.now() - timedelta(seconds=1))


def markers(prefix: str) -> int:
    return WorkerHeartbeat.objects.filter(worker__startswith=prefix).count()


# --- publishing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_published_in_a_rolled_back_transaction_leaves_nothing(settings, django_capture_on_commit_callbacks):
    handlers(settings, "remember")

    class Refused(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Refused), transaction.atomic():
            outbox_publish(topic=TOPIC, payload={"key": "rolled-back"})
            raise Refused
    assert not OutboxEvent.objects.exists()
    assert callbacks == []  # no dispatch was even asked for
    assert outbox_dispatch() == 0
    assert CALLS == []
    assert markers("remember-") == 0


@pytest.mark.django_db
def test_a_topic_nobody_handles_writes_no_row(settings, django_capture_on_commit_callbacks):
    handlers(settings, "remember")
    with django_capture_on_commit_callbacks() as callbacks:
        assert outbox_publish(topic="test.nobody_listens", payload={"key": "x"}) is None
    assert not OutboxEvent.objects.exists()
    assert callbacks == []


# --- dispatching --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_committed_event_is_handled_exactly_once_however_often_the_dispatcher_runs(
    settings, django_capture_on_commit_callbacks
):
    handlers(settings, "remember")
    with django_capture_on_commit_callbacks() as callbacks:  # committed, but the fast path is not taken
        event = outbox_publish(topic=TOPIC, payload={"key": "once"})
    assert len(callbacks) == 1
    assert CALLS == []  # nothing happens inside the business transaction

    assert outbox_dispatch() == 1
    assert outbox_dispatch() == 0
    event.refresh_from_db()
    assert CALLS == [("remember", {"key": "once"})]
    assert markers("remember-once") == 1
    assert event.dispatched_at is not None
    assert event.handled == [f"{HERE}.remember"]
    assert (event.attempts, event.last_error) == (0, "")
    assert outbox_pending_count() == 0


@pytest.mark.django_db
def test_the_fast_path_after_commit_handles_the_event_and_the_beat_finds_nothing_left(
    settings, django_capture_on_commit_callbacks
):
    handlers(settings, "remember")
    with django_capture_on_commit_callbacks(execute=True):
        event = outbox_publish(topic=TOPIC, payload={"key": "fast"})
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert outbox_dispatch() == 0  # what beat would do a few seconds later
    assert CALLS == [("remember", {"key": "fast"})]
    assert markers("remember-fast") == 1


@pytest.mark.django_db
def test_a_failing_handler_is_recorded_and_retried_later_without_rerunning_the_handlers_that_succeeded(settings):
    handlers(settings, "remember", "flaky")
    FLAKY["failures_left"] = 1
    event = outbox_publish(topic=TOPIC, payload={"key": "k"})
    before = timezone.now()

    assert outbox_dispatch() == 1
    event.refresh_from_db()
    assert event.dispatched_at is None and event.failed_at is None
    assert event.attempts == 1
    assert f"{HERE}.flaky" in event.last_error and "the mail server is down" in event.last_error
    assert event.available_at > before  # moved on: not retried at once
    assert event.handled == [f"{HERE}.remember"]
    assert markers("remember-k") == 1
    assert markers("flaky-k") == 0  # the failed handler's own write was rolled back with it

    assert outbox_dispatch() == 0  # not due yet
    due_now(event)
    assert outbox_dispatch() == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert event.handled == [f"{HERE}.remember", f"{HERE}.flaky"]
    assert [name for name, _payload in CALLS] == ["remember", "flaky", "flaky"]  # remember ran once
    assert markers("remember-k") == 1
    assert markers("flaky-k") == 1


@pytest.mark.django_db
def test_database_only_handlers_run_without_a_savepoint_each_and_the_others_keep_theirs(settings):
    handlers(settings, "quick", "remember", "quick_flaky")
    outbox_publish(topic=TOPIC, payload={"key": "q"})
    with CaptureQueriesContext(connection) as captured:
        assert outbox_dispatch() == 1
    savepoints = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]
    # Inside the test's transaction the event's transaction is a savepoint too; the other is remember's. The
    # database-only handlers have none of their own, and the last look, which finds nothing due, is a plain read.
    assert len(savepoints) == 2
    # The database-only handlers run first, then the others, each once.
    assert [name for name, _payload in CALLS] == ["quick", "quick_flaky", "remember"]
    assert (markers("quick-q"), markers("quick_flaky-q"), markers("remember-q")) == (1, 1, 1)


@pytest.mark.django_db
def test_a_database_only_handler_failing_rolls_back_the_quick_run_and_the_event_is_run_again_carefully(settings):
    """The quick run's writes are taken back with it; the careful run does each handler once, in a savepoint, so the
    one that still fails is retried alone later, and the handler with effects outside the database ran only once."""
    handlers(settings, "quick", "flaky", "quick_flaky")
    FLAKY["quick_failures_left"] = 2  # quick_flaky fails in the quick run and in the careful one
    event = outbox_publish(topic=TOPIC, payload={"key": "r"})

    assert outbox_dispatch() == 1
    event.refresh_from_db()
    # Quick run: quick, quick_flaky (fails: all rolled back). Careful run: quick, flaky, quick_flaky (fails again).
    assert [name for name, _payload in CALLS] == ["quick", "quick_flaky", "quick", "flaky", "quick_flaky"]
    assert event.handled == [f"{HERE}.quick", f"{HERE}.flaky"]
    assert event.attempts == 1 and f"{HERE}.quick_flaky" in event.last_error and "lock timeout" in event.last_error
    assert (markers("quick-r"), markers("flaky-r"), markers("quick_flaky-r")) == (1, 1, 0)

    due_now(event)
    assert outbox_dispatch() == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert [name for name, _payload in CALLS][5:] == ["quick_flaky"]  # only what was left
    assert (markers("quick-r"), markers("flaky-r"), markers("quick_flaky-r")) == (1, 1, 1)


@outbox_database_only
def quick_swallows(payload: dict) -> None:
    """A database-only handler that hides a failed statement from its caller (the transaction is left broken)."""
    CALLS.append(("quick_swallows", payload))
    if FLAKY["quick_failures_left"] > 0:
        FLAKY["quick_failures_left"] -= 1
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
        except DatabaseError:
            pass


@pytest.mark.django_db
def test_a_database_only_handler_that_leaves_its_transaction_broken_is_run_again_carefully(settings):
    """A failed statement it kept to itself breaks the quick run's transaction: the event is run again carefully,
    where the failure stays in that handler's savepoint and is recorded against it."""
    handlers(settings, "quick", "quick_swallows", "remember")
    FLAKY["quick_failures_left"] = 2  # broken in the quick run and in the careful one
    event = outbox_publish(topic=TOPIC, payload={"key": "b"})

    assert outbox_dispatch() == 1
    event.refresh_from_db()
    # Quick run: remember's savepoint cannot even be taken in the broken transaction; then the careful run.
    assert [name for name, _payload in CALLS] == ["quick", "quick_swallows", "quick", "quick_swallows", "remember"]
    assert event.handled == [f"{HERE}.quick", f"{HERE}.remember"]
    assert event.attempts == 1 and f"{HERE}.quick_swallows" in event.last_error
    assert (markers("quick-b"), markers("remember-b")) == (1, 1)

    due_now(event)
    assert outbox_dispatch() == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None and event.handled[-1] == f"{HERE}.quick_swallows"


@pytest.mark.django_db
def test_a_handler_that_keeps_failing_is_given_up_after_the_maximum_attempts_and_stays_visible(settings):
    handlers(settings, "always_fails")
    event = outbox_publish(topic=TOPIC, payload={"key": "doomed"})
    for _attempt in range(MAX_ATTEMPTS):
        due_now(event)
        assert outbox_dispatch() == 1
    event.refresh_from_db()
    assert event.attempts == MAX_ATTEMPTS
    assert event.failed_at is not None and event.dispatched_at is None
    assert "never works" in event.last_error
    due_now(event)
    assert outbox_dispatch() == 0
    assert len(CALLS) == MAX_ATTEMPTS


# --- issue 7's acceptance: the broker is down when the order is submitted -------------------------


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_submit_the_order_is_reviewed_and_allocated_once_the_dispatcher_runs(make_user, monkeypatch):
    """Real commits: the after-commit kick meets a dead broker, the submission still succeeds, and
    the dispatcher (what beat runs when Redis is back) reviews and allocates the order, once."""
    sales = make_user("sales")
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    customer, address = customer_with_address()
    order = draft_order(by=sales, customer=customer, address=address, products=[product], quantity=3)
    kicks = []

    def broker_down(*args, **kwargs):
        kicks.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(dispatch_outbox, "delay", broker_down)

    submitted = order_submit(order=order, by=sales)

    assert kicks  # the fast path was tried after commit and failed
    assert submitted.status == OrderStatus.SUBMITTED
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
    pending = OutboxEvent.objects.filter(topic="orders.salesorder.submit", dispatched_at__isnull=True)
    assert list(pending.values_list("payload__id", flat=True)) == [order.pk]

    # Redis is back: beat runs the dispatcher.
    outbox_dispatch()

    order = SalesOrder.objects.get(pk=order.pk)
    assert order.status == OrderStatus.ALLOCATED
    moves = list(order.events.filter(kind=OrderEvent.Kind.TRANSITION).values_list("from_state", "to_state", "actor_name"))
    assert moves == [
        (OrderStatus.DRAFT, OrderStatus.SUBMITTED, ""),
        (OrderStatus.SUBMITTED, OrderStatus.APPROVED, "automatic_checks"),
        (OrderStatus.APPROVED, OrderStatus.ALLOCATED, "allocation"),
    ]
    line = order.lines.get()
    assert Reservation.objects.filter(order_line=line, state=ReservationState.ACTIVE).count() == 1
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 3
    assert outbox_pending_count() == 0

    events = order.events.count()
    assert outbox_dispatch() == 0  # running it again changes nothing
    assert order.events.count() == events
    assert StockLevel.objects.get(product=product, warehouse=warehouse).reserved == 3


@own_transactions
def outside(payload: dict) -> None:
    """A handler that must not run inside the event's transaction: it records whether it does."""
    CALLS.append(("outside", transaction.get_connection().in_atomic_block))
    if FLAKY["failures_left"] > 0:
        FLAKY["failures_left"] -= 1
        raise ConnectionError("a lock timed out")


@pytest.mark.django_db(transaction=True)
def test_a_handler_with_transactions_of_its_own_runs_after_the_event_and_is_retried_alone(settings):
    """Allocating many orders must not hold all their stock locks in one transaction."""
    handlers(settings, "remember", "outside")
    FLAKY["failures_left"] = 1
    with transaction.atomic():
        event = outbox_publish(topic=TOPIC, payload={"key": "own"})

    outbox_dispatch()
    event.refresh_from_db()
    assert CALLS == [("remember", {"key": "own"}), ("outside", False)]  # no transaction open around it
    assert event.dispatched_at is None and event.attempts == 1 and "a lock timed out" in event.last_error
    assert event.handled == [f"{HERE}.remember"]

    due_now(event)
    outbox_dispatch()
    event.refresh_from_db()
    assert [name for name, _flag in CALLS] == ["remember", "outside", "outside"]  # remember is not repeated
    assert event.dispatched_at is not None


# --- an aggregate's follow-up events --------------------------------------------------------------

STEP_ONE, STEP_TWO = "test.thing.step_one", "test.thing.step_two"


@outbox_database_only
def quick_then_step_two(payload: dict) -> None:
    """A database-only handler of step one that writes a row and publishes the same thing's step two."""
    CALLS.append(("quick_then_step_two", payload))
    WorkerHeartbeat.objects.create(worker=f"step_one-{payload['id']}", last_seen=timezone.now())
    outbox_publish(topic=STEP_TWO, payload={"id": payload["id"], "key": payload["key"]})


@outbox_database_only
def quick_then_other_thing(payload: dict) -> None:
    """Publishes step two of another thing (another id)."""
    CALLS.append(("quick_then_other_thing", payload))
    outbox_publish(topic=STEP_TWO, payload={"id": payload["id"] + 1, "key": payload["key"]})


def steps(settings, one: list[str], two: list[str]) -> None:
    settings.OUTBOX_HANDLERS = {STEP_ONE: [f"{HERE}.{n}" for n in one], STEP_TWO: [f"{HERE}.{n}" for n in two]}


def transactions_in(captured) -> int:
    """The dispatcher's transactions (savepoints inside the test's transaction) and the handlers' savepoints."""
    return sum(1 for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT"))


@pytest.mark.django_db
def test_a_follow_up_of_the_same_thing_runs_in_the_same_transaction_when_every_handler_kept_to_the_database(settings):
    steps(settings, ["quick_then_step_two"], ["quick"])
    first = outbox_publish(topic=STEP_ONE, payload={"id": 7, "key": "chain"})
    with CaptureQueriesContext(connection) as captured:
        assert outbox_dispatch() == 1  # one run of the loop: step one and, in its transaction, step two
    assert transactions_in(captured) == 1
    assert [name for name, _payload in CALLS] == ["quick_then_step_two", "quick"]
    second = OutboxEvent.objects.get(topic=STEP_TWO)
    first.refresh_from_db()
    assert first.dispatched_at is not None and second.dispatched_at is not None
    assert (markers("step_one-7"), markers("quick-chain")) == (1, 1)
    assert outbox_pending_count() == 0


@pytest.mark.django_db
def test_a_follow_up_after_a_handler_with_effects_outside_the_database_gets_a_transaction_of_its_own(settings):
    steps(settings, ["quick_then_step_two", "remember"], ["quick"])
    outbox_publish(topic=STEP_ONE, payload={"id": 8, "key": "mail"})
    with CaptureQueriesContext(connection) as captured:
        assert outbox_dispatch() == 2
    # Step one's transaction, remember's savepoint in it, then step two's own transaction.
    assert transactions_in(captured) == 3
    assert [name for name, _payload in CALLS] == ["quick_then_step_two", "remember", "quick"]
    assert outbox_pending_count() == 0


@pytest.mark.django_db
def test_a_follow_up_of_another_thing_is_not_run_in_the_same_transaction(settings):
    steps(settings, ["quick_then_other_thing"], ["quick"])
    outbox_publish(topic=STEP_ONE, payload={"id": 20, "key": "other"})
    with CaptureQueriesContext(connection) as captured:
        assert outbox_dispatch() == 2
    assert transactions_in(captured) == 2  # its locks are another row's: taken in a transaction of its own
    assert outbox_pending_count() == 0


@pytest.mark.django_db
def test_a_follow_up_failing_rolls_the_chain_back_and_its_first_event_is_run_again_carefully(settings):
    """Nothing of the chain stays: the first event runs again alone, carefully, then its follow-up (published again)
    runs in a transaction of its own; every database effect happens once."""
    steps(settings, ["quick_then_step_two"], ["quick_flaky"])
    FLAKY["quick_failures_left"] = 1  # step two's handler fails once, in the chain
    first = outbox_publish(topic=STEP_ONE, payload={"id": 9, "key": "roll"})

    assert outbox_dispatch() == 2
    first.refresh_from_db()
    [second] = OutboxEvent.objects.filter(topic=STEP_TWO)  # the one published in the chain was rolled back with it
    second.refresh_from_db()
    assert first.dispatched_at is not None and second.dispatched_at is not None
    assert [name for name, _payload in CALLS] == [
        "quick_then_step_two",  # the chain: rolled back
        "quick_flaky",
        "quick_then_step_two",  # step one again, carefully
        "quick_flaky",  # step two, in its own transaction
    ]
    assert (markers("step_one-9"), markers("quick_flaky-roll")) == (1, 1)
    assert outbox_pending_count() == 0
