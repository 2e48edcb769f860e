"""Every form that creates or posts something acts once per one-time token (config.submissions): ten
concurrent posts of one token (a double click, a resubmit) make one order, one receipt, one transfer...;
the other answers replay the first result, and a form without its token is refused with a form error."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.submissions import (
    TOKEN_FIELD,
    AlreadySubmitted,
    Submission,
    submission_claim,
    submission_token_new,
    submissions_delete_expired,
)
from customers.models import Complaint, Customer
from customers.tests.test_customer_pages import VALID as CUSTOMER_DATA
from inventory.counts.models import StockCount
from inventory.counts.services import stock_count_record
from inventory.models import ReplenishmentRequest, ReplenishmentState, StockLevel, StockMovement
from inventory.replenishment.services import replenishment_create, replenishment_place
from inventory.tests.factories import ProductFactory, WarehouseFactory, draft_transfer, open_count, stocked_product
from inventory.transfers.models import StockTransfer
from inventory.transfers.services import transfer_ship
from orders.models import SalesOrder
from orders.tests.entry_data import entry_post
from orders.tests.factories import customer_with_address, draft_order
from tests.concurrency import run_together

REPLAYED = "This form was already submitted"
POSTS = 10


def on_hand(product, warehouse) -> int:
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return level.on_hand if level else 0


def without_token(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != TOKEN_FIELD}


# Each case prepares one form: (role, url, data, effect) where effect() describes what the form changed;
# it must move exactly once from its value before the posts.


def order_save(make_user):
    customer, address = customer_with_address()
    data = without_token(entry_post(customer=customer, address=address, lines=[(ProductFactory(), 2, "100.00", "0")]))
    return "sales", reverse("orders:create"), data, lambda: SalesOrder.objects.count()


def order_save_and_submit(make_user):
    customer, address = customer_with_address()
    data = entry_post(customer=customer, address=address, lines=[(ProductFactory(), 2, "100.00", "0")], action="submit")
    return "sales", reverse("orders:create"), without_token(data), lambda: SalesOrder.objects.exclude(status="draft").count()


def order_edit(make_user):
    author = make_user("sales")
    order = draft_order(by=author)
    line = order.lines.get()
    data = entry_post(
        customer=order.customer,
        address=order.shipping_address,
        version=order.version,
        customer_po="PO-EDITED",
        lines=[(line.product, 5, "100.00", "0")],
    )
    return author, reverse("orders:edit", args=[order.pk]), without_token(data), lambda: SalesOrder.objects.get().version


def goods_receipt(make_user):
    warehouse = WarehouseFactory(code="SH")
    product = ProductFactory()
    data = {"warehouse": warehouse.pk, "reference": "DN-1", "lines": f"{product.sku} 7"}
    return "warehouse", reverse("inventory:receipt"), data, lambda: on_hand(product, warehouse)


def stock_adjustment(make_user):
    warehouse = WarehouseFactory(code="SH")
    product = stocked_product(stock={warehouse: 10})
    data = {"warehouse": warehouse.pk, "product": product.sku, "quantity": -3, "reason": "damaged"}
    return "warehouse", reverse("inventory:adjust"), data, lambda: on_hand(product, warehouse)


def movement_reversal(make_user):
    warehouse = WarehouseFactory(code="SH")
    product = stocked_product(stock={warehouse: 10})
    movement = StockMovement.objects.get(product=product)
    url = reverse("inventory:movement_reverse", args=[movement.pk])
    return "warehouse", url, {"reason": "booked twice"}, lambda: StockMovement.objects.count()


def transfer_create(make_user):
    source, destination = WarehouseFactory(code="SH"), WarehouseFactory(code="BJ")
    data = {"source": source.pk, "destination": destination.pk, "note": ""}
    return "warehouse", reverse("inventory:transfer_create"), data, lambda: StockTransfer.objects.count()


def _draft_transfer(make_user):
    source, destination = WarehouseFactory(code="SH"), WarehouseFactory(code="BJ")
    product = stocked_product(stock={source: 10})
    transfer = draft_transfer(source=source, destination=destination, by=make_user("warehouse"), lines=[(product, 4)])
    return transfer, product, source, destination


def transfer_ship_case(make_user):
    transfer, product, source, _destination = _draft_transfer(make_user)
    return "warehouse", reverse("inventory:transfer_ship", args=[transfer.pk]), {}, lambda: on_hand(product, source)


def transfer_receive_case(make_user):
    transfer, product, _source, destination = _draft_transfer(make_user)
    transfer_ship(transfer=transfer, by=make_user("warehouse"))
    line = transfer.lines.get()
    data = {f"received-{line.pk}": "4", f"reason-{line.pk}": ""}
    url = reverse("inventory:transfer_receive", args=[transfer.pk])
    return "warehouse", url, data, lambda: on_hand(product, destination)


def count_create(make_user):
    warehouse = WarehouseFactory(code="SH")
    stocked_product(stock={warehouse: 5}, sku="PEN-1")
    data = {"warehouse": warehouse.pk, "sku_prefix": "PEN"}
    return "warehouse", reverse("inventory:count_create"), data, lambda: StockCount.objects.count()


def count_post(make_user):
    warehouse = WarehouseFactory(code="SH")
    product = stocked_product(stock={warehouse: 10})
    clerk = make_user("warehouse")
    count = open_count(warehouse=warehouse, by=clerk)
    stock_count_record(count=count, quantities={count.lines.get().pk: 7}, by=clerk)
    url = reverse("inventory:count_post", args=[count.pk])
    return "warehouse", url, {}, lambda: StockMovement.objects.filter(product=product).count()


def replenishment_new(make_user):
    warehouse = WarehouseFactory(code="SH")
    product = ProductFactory()
    data = {"warehouse": warehouse.pk, "supplier": "宁波紧固件厂", "lines": f"{product.sku} 12"}
    return "warehouse", reverse("inventory:replenishment_create"), data, lambda: ReplenishmentRequest.objects.count()


def replenishment_from_proposal(make_user):
    warehouse = WarehouseFactory(code="SH")
    stocked_product(stock={warehouse: 1}, safety_stock=4)
    url = reverse("inventory:replenishment_from_proposal")
    return "warehouse", url, {"warehouse": warehouse.pk}, lambda: ReplenishmentRequest.objects.count()


def _replenishment(make_user, *, placed: bool):
    warehouse = WarehouseFactory(code="SH")
    product = ProductFactory()
    clerk = make_user("warehouse")
    request = replenishment_create(warehouse=warehouse, quantities={product: 12}, by=clerk)
    if placed:
        replenishment_place(request=request, by=clerk)
    return request, product, warehouse


def replenishment_place_case(make_user):
    request, _product, _warehouse = _replenishment(make_user, placed=False)
    url = reverse("inventory:replenishment_place", args=[request.pk])
    effect = lambda: ReplenishmentRequest.objects.filter(state=ReplenishmentState.ORDERED).count()  # noqa: E731
    return "warehouse", url, {}, effect


def replenishment_receive_case(make_user):
    request, product, warehouse = _replenishment(make_user, placed=True)
    line = request.lines.get()
    url = reverse("inventory:replenishment_receive", args=[request.pk])
    return "warehouse", url, {f"received_{line.pk}": 5, "reference": "DN-9"}, lambda: on_hand(product, warehouse)


def customer_create(make_user):
    return "sales", reverse("customers:create"), dict(CUSTOMER_DATA), lambda: Customer.objects.count()


def complaint_create(make_user):
    customer, _address = customer_with_address()
    data = {"category": "quality", "subject": "保温杯漏水", "description": "3 只漏水"}
    url = reverse("customers:complaint_create", args=[customer.pk])
    return "sales", url, data, lambda: Complaint.objects.count()


FORMS = [
    order_save,
    order_save_and_submit,
    order_edit,
    goods_receipt,
    stock_adjustment,
    movement_reversal,
    transfer_create,
    transfer_ship_case,
    transfer_receive_case,
    count_create,
    count_post,
    replenishment_new,
    replenishment_from_proposal,
    replenishment_place_case,
    replenishment_receive_case,
    customer_create,
    complaint_create,
]


def _user(make_user, role_or_user):
    return make_user(role_or_user) if isinstance(role_or_user, str) else role_or_user


def _replayed(response) -> bool:
    return any(REPLAYED in str(message) for message in get_messages(response.wsgi_request))


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's unique index waits and several connections")
@pytest.mark.parametrize("prepare", FORMS, ids=lambda prepare: prepare.__name__)
def test_ten_concurrent_posts_of_one_token_act_once_and_replay_the_first_result(make_user, prepare):
    role, url, data, effect = prepare(make_user)
    user = _user(make_user, role)
    before = effect()
    posted = {**data, TOKEN_FIELD: submission_token_new()}
    responses = []

    def post():
        client = Client()
        client.force_login(user)
        responses.append(client.post(url, posted))

    assert run_together([post] * POSTS) == []

    after = effect()
    assert after != before, "the form did nothing"
    assert [response.status_code for response in responses] == [302] * POSTS
    assert len({response["Location"] for response in responses}) == 1, "every answer leads where the first did"
    assert sorted(_replayed(response) for response in responses) == [False] + [True] * (POSTS - 1)

    # A resubmit later (back button, reload) shows the first result again and changes nothing.
    client = Client()
    client.force_login(user)
    again = client.post(url, posted)
    assert again.status_code == 302 and again["Location"] == responses[0]["Location"] and _replayed(again)
    assert effect() == after
    submission = Submission.objects.get(token=posted[TOKEN_FIELD])
    assert submission.user == user and submission.completed_at is not None
    assert submission.result == {"redirect": responses[0]["Location"]}


@pytest.mark.django_db
@pytest.mark.parametrize("prepare", FORMS, ids=lambda prepare: prepare.__name__)
def test_a_form_without_its_token_is_refused_with_a_form_error_and_does_nothing(client, make_user, prepare):
    role, url, data, effect = prepare(make_user)
    client.force_login(_user(make_user, role))
    before = effect()
    for token in (None, "", "x' OR 1=1 --", "短" * 30):
        posted = data if token is None else {**data, TOKEN_FIELD: token}
        response = client.post(url, posted)
        assert response.status_code == 400, token
        assert "one-time token is missing or damaged" in response.content.decode()
    assert effect() == before
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_a_refused_first_submit_leaves_the_token_free_for_the_corrected_form(client, make_user):
    warehouse = WarehouseFactory(code="SH")
    product = stocked_product(stock={warehouse: 10})
    client.force_login(make_user("warehouse"))
    token = submission_token_new()
    data = {"warehouse": warehouse.pk, "product": product.sku, "quantity": -30, "reason": "lost", TOKEN_FIELD: token}
    refused = client.post(reverse("inventory:adjust"), data)
    assert refused.status_code == 400 and on_hand(product, warehouse) == 10
    assert not Submission.objects.filter(token=token).exists()
    done = client.post(reverse("inventory:adjust"), {**data, "quantity": -3})
    assert done.status_code == 302 and on_hand(product, warehouse) == 7


@pytest.mark.django_db
def test_a_token_of_another_user_is_refused(client, make_user):
    warehouse = WarehouseFactory(code="SH")
    product = ProductFactory()
    data = {"warehouse": warehouse.pk, "reference": "", "lines": f"{product.sku} 2", TOKEN_FIELD: submission_token_new()}
    client.force_login(make_user("warehouse"))
    assert client.post(reverse("inventory:receipt"), data).status_code == 302
    client.force_login(make_user("warehouse"))
    response = client.post(reverse("inventory:receipt"), data)
    assert response.status_code == 400 and "belongs to another form" in response.content.decode()
    assert on_hand(product, warehouse) == 2


@pytest.mark.django_db
def test_the_rendered_forms_carry_a_fresh_token(client_as):
    client = client_as("warehouse")
    first, second = (client.get(reverse("inventory:receipt")).content.decode() for _ in range(2))
    assert f'name="{TOKEN_FIELD}"' in first and first != second


@pytest.mark.django_db
def test_tokens_are_kept_at_least_a_day_then_deleted(make_user):
    user = make_user("sales")
    old = Submission.objects.create(token=submission_token_new(), scope="orders.create", user=user)
    recent = Submission.objects.create(token=submission_token_new(), scope="orders.create", user=user)
    Submission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    Submission.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(hours=23))
    assert submissions_delete_expired(keep_for=timedelta(hours=1)) == 1
    assert list(Submission.objects.all()) == [recent]


@pytest.mark.django_db
def test_a_refused_button_action_leaves_the_token_free(client, make_user):
    transfer, product, source, _destination = _draft_transfer(make_user)
    StockLevel.objects.filter(product=product, warehouse=source).update(reserved=8)  # only 2 of 4 free now
    client.force_login(make_user("warehouse"))
    token = submission_token_new()
    refused = client.post(reverse("inventory:transfer_ship", args=[transfer.pk]), {TOKEN_FIELD: token}, follow=True)
    assert refused.status_code == 200 and REPLAYED not in refused.content.decode()
    assert on_hand(product, source) == 10 and not Submission.objects.filter(token=token).exists()


class _Abort(Exception):
    pass


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's unique index waits and several connections")
@pytest.mark.parametrize("first_commits", [True, False], ids=["first commits", "first rolls back"])
def test_a_second_use_waits_for_the_first_and_proceeds_only_if_it_rolled_back(make_user, first_commits):
    user = make_user("sales")
    token = submission_token_new()
    claimed = threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                submission_claim(token=token, scope="orders.create", user=user)
                claimed.set()
                time.sleep(0.5)  # the second INSERT is waiting on the unique index meanwhile
                if not first_commits:
                    raise _Abort
        except _Abort:
            pass

    def second():
        assert claimed.wait(timeout=10)
        started = time.monotonic()
        try:
            with transaction.atomic():
                submission_claim(token=token, scope="orders.create", user=user)
            outcome["result"] = "proceeded"
        except AlreadySubmitted:
            outcome["result"] = "replayed"
        outcome["waited"] = time.monotonic() - started

    assert run_together([first, second]) == []
    assert outcome["result"] == ("replayed" if first_commits else "proceeded")
    assert outcome["waited"] >= 0.3, "the second use waited for the first transaction"
    assert Submission.objects.filter(token=token).count() == 1
