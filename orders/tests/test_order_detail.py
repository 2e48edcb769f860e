"""The order page: header, lines, totals, findings, stock, the buttons a role may use, and the history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.entry import services
from orders.models import OrderEvent, OrderStatus, ReviewFinding, ReviewRule, SalesOrder
from orders.tests.entry_data import entry_post
from orders.tests.factories import ProductFactory, draft_order
from tests.queries import assert_constant_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def detail(client, order):
    return client.get(order.get_absolute_url())


def test_the_order_page_shows_header_lines_and_totals(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user, lines=2, customer_po="PO-778")
    response = detail(client, order)
    assert response.status_code == 200
    body = response.content.decode()
    for text in (order.number, order.customer.name, "PO-778", order.shipping_address.one_line(), str(order.total)):
        assert text in body
    for line in order.lines.all():
        assert line.product.sku in body
    assert response.context["lines"] == list(order.lines.order_by("position"))


def test_an_unknown_order_is_a_404(client_as):
    assert client_as("sales").get(reverse("orders:detail", args=[999999])).status_code == 404


def test_the_history_shows_who_did_what_and_when(client_as, make_user):
    client = client_as("sales")
    order = draft_order(by=client.user, customer_po="A")
    product = order.lines.get().product
    client.post(
        reverse("orders:edit", args=[order.pk]),
        entry_post(
            customer=order.customer,
            address=order.shipping_address,
            version=order.version,
            customer_po="B",
            lines=[(product, 3, "100.00", "0")],
        ),
    )
    services.order_submit(order=order, by=client.user)
    services.order_cancel(order=order, by=client.user, reason="Customer went elsewhere")
    response = detail(client, order)
    events = response.context["events"]
    assert [(e.kind, e.from_state, e.to_state) for e in events] == [
        ("created", "", ""),
        ("edited", "", ""),
        ("transition", "draft", "submitted"),
        ("transition", "submitted", "cancelled"),
    ]
    body = response.content.decode()
    assert "Customer went elsewhere" in body
    assert "Changed customer PO number" in body
    assert body.count(client.user.username) >= 4


def test_findings_are_shown_latest_submission_first(client_as, make_user):
    order = draft_order(by=make_user("sales"))
    ReviewFinding.objects.create(order=order, submission=1, rule=ReviewRule.AMOUNT, message="Old finding")
    ReviewFinding.objects.create(order=order, submission=2, rule=ReviewRule.CREDIT, message="Credit limit exceeded by 5000")
    response = detail(client_as("reviewer"), order)
    assert [f.submission for f in response.context["findings"]] == [2, 1]
    assert "Credit limit exceeded by 5000" in response.content.decode()


ACTIONS = {
    "edit": "Edit draft",
    "submit": reverse("orders:submit", args=[0]).replace("/0/", "/{pk}/"),
    "cancel": reverse("orders:cancel", args=[0]).replace("/0/", "/{pk}/"),
    "reopen": reverse("orders:reopen", args=[0]).replace("/0/", "/{pk}/"),
}


@pytest.mark.parametrize(
    ("role", "state", "expected"),
    [
        ("sales", OrderStatus.DRAFT, {"edit", "submit", "cancel"}),
        ("sales", OrderStatus.REJECTED, {"reopen", "cancel"}),
        ("sales", OrderStatus.APPROVED, {"cancel"}),
        ("sales", OrderStatus.SHIPPED, set()),
        ("reviewer", OrderStatus.DRAFT, set()),
        ("warehouse", OrderStatus.APPROVED, set()),
        ("manager", OrderStatus.APPROVED, {"cancel"}),
        ("finance", OrderStatus.DRAFT, set()),
        ("colleague", OrderStatus.DRAFT, set()),
        ("colleague", OrderStatus.REJECTED, set()),
        ("colleague", OrderStatus.APPROVED, set()),
    ],
)
def test_buttons_follow_the_state_machine_and_the_role(client_as, make_user, role, state, expected):
    """Sales see the buttons of their own orders; a colleague in sales reads the order but sees none."""
    client = client_as("sales" if role == "colleague" else role)
    order = draft_order(by=client.user if role == "sales" else make_user("sales"))
    SalesOrder.objects.filter(pk=order.pk).update(status=state)
    response = detail(client, order)
    shown = {name for name, allowed in response.context["actions"].items() if allowed}
    assert shown == expected
    body = response.content.decode()
    for name, marker in ACTIONS.items():
        assert (marker.format(pk=order.pk) in body) == (name in expected), name


def test_detail_queries_do_not_grow_with_lines_events_and_findings(client_as, make_user):
    client = client_as("sales")
    clerk = make_user("sales")
    state = {}

    def make_order(n):
        order = draft_order(by=clerk, products=ProductFactory.create_batch(n))
        for i in range(n):
            ReviewFinding.objects.create(order=order, rule=ReviewRule.PRICE, message=f"finding {i}")
            OrderEvent.record(order, kind=OrderEvent.Kind.NOTE, actor=make_user("reviewer"), note=f"note {i}")
        state["order"] = order

    assert_constant_queries(make_order, lambda: detail(client, state["order"]), sizes=(1, 10))
