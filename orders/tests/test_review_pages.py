"""The review pages: the queue, the thresholds managers edit, and the notifications page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from config.models import Notification
from config.notification_views import unread_notifications
from config.roles import MANAGER, REVIEWER, SALES
from orders.models import OrderStatus, ReviewRule, ReviewSettings, SalesOrder
from tests.queries import assert_constant_queries

from .review_factories import CustomerFactory, ProductFactory, make_order, submit_and_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(make_user):
    return make_user(SALES)


def flagged(*, by, customer=None, incomplete=True, cheap=False, submitted_minutes_ago=0):
    """An order in review: incomplete (no address) and/or priced far below list."""
    lines = [(ProductFactory(), 1, Decimal("10.00"), Decimal("0"))] if cheap else None
    order = submit_and_check(make_order(by=by, customer=customer, address=not incomplete, lines=lines), by=by)
    assert order.status == OrderStatus.IN_REVIEW
    if submitted_minutes_ago:
        submitted_at = timezone.now() - datetime.timedelta(minutes=submitted_minutes_ago)
        SalesOrder.objects.filter(pk=order.pk).update(submitted_at=submitted_at)
    return order


# --- the queue ------------------------------------------------------------------------------------


def test_queue_shows_orders_in_review_oldest_first_with_their_findings(client_as, sales):
    newer = flagged(by=sales, submitted_minutes_ago=5)
    older = flagged(by=sales, cheap=True, incomplete=False, submitted_minutes_ago=50)
    approved = submit_and_check(make_order(by=sales), by=sales)
    response = client_as(REVIEWER).get(reverse("orders:review_queue"))
    assert response.status_code == 200
    assert [o.number for o in response.context["page_obj"]] == [older.number, newer.number]
    body = response.content.decode()
    assert approved.number not in body
    assert "The order is incomplete" in body
    assert "net unit price 10.00" in body
    assert body.count('action="' + reverse("orders:approve", args=[older.pk]) + '"') == 1


def test_queue_shows_only_the_latest_submissions_findings(client_as, sales, make_user):
    from orders.entry.services import order_reopen
    from orders.review.services import order_reject

    order = flagged(by=sales)
    order_reject(order=order, by=make_user(REVIEWER), reason="Add the address")
    order_reopen(order=order, by=sales)
    SalesOrder.objects.filter(pk=order.pk).update(customer_po="second try")
    order = submit_and_check(order, by=sales)
    response = client_as(REVIEWER).get(reverse("orders:review_queue"))
    [row] = response.context["page_obj"]
    assert [f.submission for f in row.current_findings] == [2]


def test_queue_filters_by_the_rule_that_flagged_the_order(client_as, sales):
    incomplete = flagged(by=sales)
    cheap = flagged(by=sales, cheap=True, incomplete=False)
    client = client_as(REVIEWER)
    response = client.get(reverse("orders:review_queue"), {"rule": ReviewRule.PRICE})
    assert [o.pk for o in response.context["page_obj"]] == [cheap.pk]
    response = client.get(reverse("orders:review_queue"), {"rule": ReviewRule.COMPLETENESS})
    assert [o.pk for o in response.context["page_obj"]] == [incomplete.pk]


def test_queue_filters_by_customer_name_or_code(client_as, sales):
    huanan = flagged(by=sales, customer=CustomerFactory(name="华南五金", code="C000777"))
    flagged(by=sales, customer=CustomerFactory(name="ACME Trading"))
    client = client_as(REVIEWER)
    for term in ["华南", "C000777"]:
        response = client.get(reverse("orders:review_queue"), {"customer": term})
        assert [o.pk for o in response.context["page_obj"]] == [huanan.pk]


def test_queue_sorts_by_total_or_newest(client_as, sales):
    small = flagged(by=sales, cheap=True, submitted_minutes_ago=30)  # 10.00 + tax
    large = flagged(by=sales, submitted_minutes_ago=20)  # 100.00 + tax
    client = client_as(REVIEWER)
    by_total = client.get(reverse("orders:review_queue"), {"sort": "-total"})
    assert [o.pk for o in by_total.context["page_obj"]] == [large.pk, small.pk]
    newest = client.get(reverse("orders:review_queue"), {"sort": "-submitted"})
    assert [o.pk for o in newest.context["page_obj"]] == [large.pk, small.pk]
    oldest = client.get(reverse("orders:review_queue"))
    assert [o.pk for o in oldest.context["page_obj"]] == [small.pk, large.pk]


def test_queue_filter_that_matches_nothing_says_so(client_as, sales):
    flagged(by=sales)
    response = client_as(REVIEWER).get(reverse("orders:review_queue"), {"customer": "nobody like this"})
    assert "No order in review matches these filters." in response.content.decode()


def test_unknown_rule_in_the_filter_is_a_form_error_not_a_500(client_as, sales):
    flagged(by=sales)
    response = client_as(REVIEWER).get(reverse("orders:review_queue"), {"rule": "astrology"})
    assert response.status_code == 200
    assert response.context["filter"].errors["rule"]


def test_empty_queue_explains_itself(client_as):
    response = client_as(REVIEWER).get(reverse("orders:review_queue"))
    assert "The review queue is empty." in response.content.decode()


def test_queue_is_paginated(client_as, sales):
    for _ in range(26):
        flagged(by=sales)
    client = client_as(REVIEWER)
    first = client.get(reverse("orders:review_queue"))
    assert len(first.context["page_obj"]) == 25
    second = client.get(reverse("orders:review_queue"), {"page": 2})
    assert len(second.context["page_obj"]) == 1


def test_queue_hides_the_decision_from_the_reviewer_who_entered_the_order(client_as):
    client = client_as(SALES, REVIEWER)
    own = flagged(by=client.user)
    body = client.get(reverse("orders:review_queue")).content.decode()
    assert own.number in body
    assert reverse("orders:approve", args=[own.pk]) not in body
    assert "another reviewer must decide it" in body


def test_review_queue_query_count_does_not_grow_with_orders(client_as, sales):
    client = client_as(REVIEWER)
    url = reverse("orders:review_queue")

    def make_rows(n):
        for _ in range(n - SalesOrder.objects.filter(status=OrderStatus.IN_REVIEW).count()):
            flagged(by=sales, cheap=True, customer=CustomerFactory())

    assert_constant_queries(make_rows, lambda: client.get(url), sizes=(1, 8))
    assert_constant_queries(make_rows, lambda: client.get(url, {"rule": ReviewRule.PRICE}), sizes=(8, 12))


# --- review settings --------------------------------------------------------------------------------


SETTINGS_FORM = {
    "amount_threshold": "50000.00",
    "sales_max_discount_percent": "15.00",
    "overdue_days": "45",
    "check_completeness": "on",
    "check_price": "on",
    "check_amount": "on",
    "check_blocked": "on",
    "check_credit": "on",
    "check_overdue": "on",
}


def test_manager_changes_the_thresholds(client_as):
    client = client_as(MANAGER)
    assert client.get(reverse("orders:review_settings")).status_code == 200
    response = client.post(reverse("orders:review_settings"), SETTINGS_FORM)
    assert response.status_code == 302
    saved = ReviewSettings.current()
    assert saved.amount_threshold == Decimal("50000.00")
    assert saved.sales_max_discount_percent == Decimal("15.00")
    assert saved.overdue_days == 45
    assert saved.check_stock is False  # unchecked box switches the warning off
    assert saved.updated_by == client.user


def test_new_thresholds_apply_to_the_next_submission(client_as, sales):
    client_as(MANAGER).post(reverse("orders:review_settings"), {**SETTINGS_FORM, "sales_max_discount_percent": "25.00"})
    order = submit_and_check(make_order(by=sales, lines=[(ProductFactory(), 1, Decimal("76.00"), Decimal("0"))]), by=sales)
    assert order.status == OrderStatus.APPROVED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount_threshold", "-1", "The amount threshold cannot be negative."),
        ("amount_threshold", "lots", "Enter a number."),
        ("sales_max_discount_percent", "120", "The discount sales may give is a percentage from 0 to 100."),
        ("sales_max_discount_percent", "-5", "The discount sales may give is a percentage from 0 to 100."),
        ("overdue_days", "-3", "greater than or equal to 0"),
        ("overdue_days", "99999", "less than or equal to 3650"),
        ("amount_threshold", "", "This field is required."),
    ],
)
def test_bad_thresholds_get_a_clear_error_and_change_nothing(client_as, field, value, message):
    before = ReviewSettings.current()
    response = client_as(MANAGER).post(reverse("orders:review_settings"), {**SETTINGS_FORM, field: value})
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    after = ReviewSettings.current()
    assert (after.amount_threshold, after.sales_max_discount_percent, after.overdue_days) == (
        before.amount_threshold,
        before.sales_max_discount_percent,
        before.overdue_days,
    )


def test_review_settings_page_is_in_the_managers_navigation(client_as):
    body = client_as(MANAGER).get(reverse("home")).content.decode()
    assert reverse("orders:review_settings") in body


# --- notifications page -----------------------------------------------------------------------------


def test_user_sees_only_their_own_notifications(client_as, make_user):
    client = client_as(SALES)
    Notification.objects.create(recipient=client.user, text="Order SO-2026-000001 was approved by wang.", url="/orders/1/")
    Notification.objects.create(recipient=make_user(SALES), text="Somebody else's news", url="/")
    response = client.get(reverse("notifications:list"))
    body = response.content.decode()
    assert "Order SO-2026-000001 was approved by wang." in body
    assert "Somebody else" not in body
    assert response.context["unread_count"] == "1"


def test_marking_a_notification_read(client_as):
    client = client_as(SALES)
    note = Notification.objects.create(recipient=client.user, text="News", url="/orders/1/")
    response = client.post(reverse("notifications:read", args=[note.pk]))
    assert response.status_code == 302
    note = Notification.objects.get(pk=note.pk)
    assert note.read_at is not None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client_as):
    client = client_as(REVIEWER)
    note = Notification.objects.create(recipient=client.user, text="Queue has work", url=reverse("orders:review_queue"))
    response = client.post(reverse("notifications:read", args=[note.pk]), {"open": "1"})
    assert response.status_code == 302 and response.url == reverse("orders:review_queue")
    assert Notification.objects.get(pk=note.pk).read_at is not None


def test_nobody_can_mark_another_users_notification(client_as, make_user):
    other = Notification.objects.create(recipient=make_user(SALES), text="Private", url="/")
    response = client_as(SALES).post(reverse("notifications:read", args=[other.pk]))
    assert response.status_code == 302
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_mark_all_read_touches_only_the_users_own(client_as, make_user):
    client = client_as(SALES)
    mine = [Notification.objects.create(recipient=client.user, text=f"n{i}") for i in range(3)]
    theirs = Notification.objects.create(recipient=make_user(SALES), text="theirs")
    client.post(reverse("notifications:read_all"))
    assert Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).count() == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_unread_filter_and_empty_state(client_as):
    client = client_as(SALES)
    Notification.objects.create(recipient=client.user, text="Old news", read_at=timezone.now())
    response = client.get(reverse("notifications:list"), {"show": "unread"})
    assert "Old news" not in response.content.decode()
    assert "No unread notifications." in response.content.decode()


def test_notification_actions_are_post_only(client_as):
    client = client_as(SALES)
    note = Notification.objects.create(recipient=client.user, text="News")
    assert client.get(reverse("notifications:read", args=[note.pk])).status_code == 405
    assert client.get(reverse("notifications:read_all")).status_code == 405


def test_unread_count_for_the_navigation_badge(rf, make_user):
    user = make_user(SALES)
    Notification.objects.create(recipient=user, text="a")
    Notification.objects.create(recipient=user, text="b", read_at=timezone.now())
    request = rf.get("/")
    request.user = user
    assert int(str(unread_notifications(request)["unread_notification_count"])) == 1


def test_notifications_page_query_count_does_not_grow(client_as):
    client = client_as(SALES)

    def make_rows(n):
        for i in range(n - Notification.objects.filter(recipient=client.user).count()):
            Notification.objects.create(recipient=client.user, text=f"news {i}", url="/")

    assert_constant_queries(make_rows, lambda: client.get(reverse("notifications:list")), sizes=(1, 10))


def test_every_user_has_the_notifications_page_in_the_navigation(client_as):
    body = client_as(SALES).get(reverse("home")).content.decode()
    assert reverse("notifications:list") in body


# --- the order page shows the findings and, to another reviewer, the decision ----------------------


def test_order_page_shows_findings_and_lets_another_reviewer_decide(client_as, sales):
    order = flagged(by=sales, cheap=True)
    body = client_as(REVIEWER).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert 'id="findings"' in body
    assert "The order is incomplete" in body and "net unit price 10.00" in body
    assert reverse("orders:approve", args=[order.pk]) in body
    assert reverse("orders:reject", args=[order.pk]) in body


def test_order_page_offers_no_decision_to_sales(client_as, sales):
    order = flagged(by=sales)
    client = client_as(SALES)
    body = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "The order is incomplete" in body
    assert reverse("orders:approve", args=[order.pk]) not in body
