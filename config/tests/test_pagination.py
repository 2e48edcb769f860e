"""Long lists count at most a cap of rows, and say so."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import RequestFactory

from config.pagination import CappedPaginator
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


class SmallCap(CappedPaginator):
    cap = 5


def users(n: int):
    User = get_user_model()
    User.objects.bulk_create([User(username=f"u{i}") for i in range(n)])
    return User.objects.order_by("pk")


def test_below_the_cap_the_count_is_exact_and_the_last_page_is_offered():
    paginator = SmallCap(users(4), 2)
    assert (paginator.count, paginator.num_pages, paginator.capped) == (4, 2, False)


def test_above_the_cap_the_count_stops_there_in_one_bounded_query():
    people = users(12)
    paginator = SmallCap(people, 2)
    with count_queries() as queries:
        assert (paginator.count, paginator.capped) == (5, True)
    assert len(queries.captured_queries) == 1 and "LIMIT 6" in queries.captured_queries[0]["sql"]


def test_a_capped_page_says_there_are_more_rows_and_offers_no_last_page():
    page = SmallCap(users(12), 2).get_page(1)
    html = render_to_string("pagination.html", {"page_obj": page}, request=RequestFactory().get("/"))
    assert "5+ rows" in html and "Last" not in html and "Next" in html


def test_the_unread_badge_counts_no_further_than_its_cap():
    from config.models import Notification
    from config.notifications import UNREAD_CAP, notification_unread_count, unread_badge

    reader = get_user_model().objects.create_user("reader")
    Notification.objects.bulk_create([Notification(recipient=reader, text="x") for _ in range(UNREAD_CAP + 5)])
    with count_queries() as queries:
        count = notification_unread_count(user=reader)
    assert len(queries.captured_queries) == 1 and f"LIMIT {UNREAD_CAP + 1}" in queries.captured_queries[0]["sql"]
    assert (unread_badge(count), unread_badge(3), unread_badge(0)) == (f"{UNREAD_CAP}+", "3", "")


def test_a_home_queue_counts_no_further_than_its_cap(monkeypatch):
    from config import home

    monkeypatch.setattr(home, "COUNT_CAP", 7)
    queue = home.work_queue(title="t", url="/", queryset=users(12))
    assert (len(queue.items), queue.count, queue.count_label) == (home.QUEUE_PREVIEW, 8, "7+")
    small = home.work_queue(title="t", url="/", queryset=get_user_model().objects.filter(username__in=["u1", "u2"]))
    assert (small.count, small.count_label) == (2, "2")
