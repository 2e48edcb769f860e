"""The Django admin shows orders and their history read-only; only the review thresholds are editable there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import ReviewFinding, ReviewRule, ReviewSettings, SalesOrder
from orders.tests.factories import draft_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def admin_client_with_order(admin_client, make_user):
    order = draft_order(by=make_user("sales"), lines=2)
    ReviewFinding.objects.create(order=order, rule=ReviewRule.AMOUNT, message="Big")
    return admin_client, order


def test_admin_lists_and_shows_orders_with_lines_and_timeline(admin_client_with_order):
    client, order = admin_client_with_order
    for name in ("salesorder", "orderevent", "reviewfinding", "reviewsettings"):
        assert client.get(reverse(f"admin:orders_{name}_changelist")).status_code == 200
    page = client.get(reverse("admin:orders_salesorder_change", args=[order.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert order.number in body and "Created" in body
    for line in order.lines.all():
        assert line.product.sku in body


def test_admin_cannot_change_add_or_delete_orders(admin_client_with_order):
    client, order = admin_client_with_order
    client.post(reverse("admin:orders_salesorder_change", args=[order.pk]), {"notes": "hacked", "status": "approved"})
    saved = SalesOrder.objects.get(pk=order.pk)
    assert (saved.status, saved.notes) == ("draft", "")
    assert client.get(reverse("admin:orders_salesorder_add")).status_code == 403
    assert client.post(reverse("admin:orders_salesorder_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    assert SalesOrder.objects.filter(pk=order.pk).exists()


def test_admin_edits_the_review_thresholds(admin_client):
    settings_row = ReviewSettings.current()
    url = reverse("admin:orders_reviewsettings_change", args=[settings_row.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({key: "on" for key, value in data.items() if value is True})
    for key in [k for k, v in data.items() if v is False]:
        del data[key]
    data["amount_threshold"] = "250000.00"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert ReviewSettings.current().amount_threshold == Decimal("250000.00")
