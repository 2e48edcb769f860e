"""The Cycle times, Review and Orders at risk pages and the limits page: who may open them, what they show in
both languages, their exports, their filters' errors, and the home page's queue."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from orders.models import ReviewRule
from reports.cycles.models import RiskLimits
from reports.cycles.refresh import cycles_rebuild
from tests.downloads import body
from tests.queries import count_queries

from .factories import PAID, at, timeline_order

pytestmark = pytest.mark.django_db

CYCLES = reverse("reports:cycle_times")
REVIEW = reverse("reports:review")
RISK = reverse("reports:at_risk")
LIMITS = reverse("reports:risk_limits")


def csv_rows(response) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def late_order(seller, *, days_late: int = 2, hours_in_state: float = 1):
    now = timezone.now()
    return timeline_order(
        by=seller,
        requested_date=timezone.localdate() - timedelta(days=days_late),
        steps=[("submitted", now - timedelta(hours=hours_in_state + 1)), ("allocated", now - timedelta(hours=hours_in_state))],
    )


@pytest.fixture
def history(make_user):
    """Two salespeople's orders over the last weeks: delivered on time or late, one paid, one flagged and approved."""
    seller, other, reviewer = make_user("sales"), make_user("sales"), make_user("reviewer", first_name="审核员甲")
    today = timezone.localdate()
    start = today - timedelta(days=20)
    t0 = at(start)
    timeline_order(
        by=seller,
        requested_date=start + timedelta(days=5),
        payment_status="paid",
        steps=[
            ("submitted", t0),
            ("approved", t0 + timedelta(minutes=5)),
            ("allocated", t0 + timedelta(hours=3)),
            ("shipped", t0 + timedelta(days=1)),
            ("delivered", t0 + timedelta(days=3)),
            (PAID, t0 + timedelta(days=10)),
            ("completed", t0 + timedelta(days=10)),
        ],
    )
    timeline_order(
        by=other,
        requested_date=start + timedelta(days=1),
        flags=[ReviewRule.CREDIT],
        steps=[
            ("submitted", t0),
            ("in_review", t0),
            ("approved", t0 + timedelta(hours=6), reviewer),
            ("allocated", t0 + timedelta(hours=7)),
            ("shipped", t0 + timedelta(days=2)),
            ("delivered", t0 + timedelta(days=4)),
        ],
    )
    mine_at_risk = late_order(seller)
    theirs_at_risk = late_order(other)
    cycles_rebuild()
    return {"seller": seller, "other": other, "reviewer": reviewer, "mine": mine_at_risk, "theirs": theirs_at_risk}


# --- who may open what ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        (CYCLES, ["manager", "warehouse"], ["sales", "finance", "reviewer"]),
        (REVIEW, ["manager", "reviewer"], ["sales", "warehouse", "finance"]),
        (RISK, ["manager", "sales"], ["warehouse", "finance", "reviewer"]),
        (LIMITS, ["manager"], ["sales", "warehouse", "finance", "reviewer"]),
    ],
)
def test_each_page_opens_for_the_roles_that_may_and_refuses_the_others(client_as, url, allowed, refused):
    for role in allowed:
        assert client_as(role).get(url).status_code == 200, role
    for role in refused:
        assert client_as(role).get(url).status_code == 403, role
        assert client_as(role).get(url, {"format": "csv"}).status_code == 403, role


def test_a_salesperson_cannot_change_the_limits_by_posting(client_as):
    response = client_as("sales").post(LIMITS, {"approved_hours": "1"})
    assert response.status_code == 403
    assert RiskLimits.current().approved_hours == 24


# --- cycle times -------------------------------------------------------------------------------------------


def test_the_cycle_times_page_shows_weekly_medians_on_time_rates_and_charts(client_as, history):
    response = client_as("manager").get(CYCLES)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Data as of" in page
    assert page.count('class="chart"') >= 2 or page.count("<img") >= 2
    result = response.context["result"]
    delivered = sum(row["delivered"] for row in result.rows)
    assert delivered == 2
    on_time = {figure.label: figure.value for figure in result.figures}
    assert on_time["On time vs requested date"] == 0.5  # one by its date, one two days late
    week = next(row for row in result.rows if row["submit_approve_median"] is not None)
    assert week["submit_approve_median"] == pytest.approx((5 * 60 + 6 * 3600) / 2)


def test_the_cycle_times_page_in_chinese(client_as, history):
    response = client_as("manager").get(CYCLES, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert "周期" in page and "准时" in page
    assert "Cycle times" not in page


def test_a_manager_may_narrow_the_cycle_times_to_one_salesperson(client_as, history):
    response = client_as("manager").get(CYCLES, {"salesperson": history["seller"].pk})
    result = response.context["result"]
    assert sum(row["delivered"] for row in result.rows) == 1
    assert {figure.label: figure.value for figure in result.figures}["On time vs requested date"] == 1


def test_the_warehouse_sees_everyone_s_cycle_times_and_no_salesperson_filter(client_as, history):
    response = client_as("warehouse").get(CYCLES, {"salesperson": history["seller"].pk})
    assert "salesperson" not in response.context["form"].fields
    assert sum(row["delivered"] for row in response.context["result"].rows) == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_the_cycle_times_export(client_as, history, fmt):
    response = client_as("manager").get(CYCLES, {"format": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        rows = csv_rows(response)
        assert rows[0][:2] == ["Week", "Delivered"] and "Submitted → approved: median (h)" in rows[0]
        assert sum(int(row[1]) for row in rows[1:]) == 2
    elif fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(body(response))).active
        assert sheet["A1"].value == "Week"
    else:
        assert body(response).startswith(b"%PDF")


def test_a_bad_period_is_an_error_on_the_page_not_a_failure(client_as):
    response = client_as("manager").get(CYCLES, {"start": "2026-13-40", "end": "2026-01-01"})
    assert response.status_code == 200 and response.context["form"].errors
    assert client_as("manager").get(CYCLES, {"start": "2026-02-01", "end": "2026-01-01", "format": "pdf"}).status_code == 400


def test_the_cycle_times_page_without_data_says_so(client_as):
    page = client_as("manager").get(CYCLES).content.decode()
    assert "No figures for this period" in page and "have not been built yet" in page


# --- review -------------------------------------------------------------------------------------------------


def test_the_review_report_shows_flags_per_rule_approval_rate_and_reviewer_workload(client_as, history):
    response = client_as("reviewer").get(REVIEW, {"breakdown": "reviewer"})
    result = response.context["result"]
    assert [row["reviewer"] for row in result.rows] == ["审核员甲"]
    assert (result.rows[0]["approved"], result.rows[0]["average"]) == (1, 6 * 3600)
    figures = {figure.label: figure.value for figure in result.figures}
    assert figures["Approval rate"] == 1 and figures["Median time in review"] == 6 * 3600
    rules = client_as("manager").get(REVIEW, {"breakdown": "rule"}).context["result"]
    assert [(row["rule"], row["flagged"]) for row in rules.rows] == [("Credit limit", 1)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_the_review_report_export(client_as, history, fmt):
    response = client_as("manager").get(REVIEW, {"format": fmt, "grain": "month"})
    assert response.status_code == 200
    if fmt == "csv":
        rows = csv_rows(response)
        assert rows[0][:3] == ["Period", "Checked", "Flagged"] and rows[-1][0] == "Total"
    elif fmt == "pdf":
        assert body(response).startswith(b"%PDF")


def test_the_review_report_in_chinese(client_as, history):
    page = client_as("reviewer").get(REVIEW, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "审核" in page and "Review report" not in page


# --- orders at risk -----------------------------------------------------------------------------------------


def test_a_salesperson_sees_only_their_own_orders_at_risk_and_why(client, history):
    client.force_login(history["seller"])
    response = client.get(RISK)
    page = response.content.decode()
    assert history["mine"].number in page and history["theirs"].number not in page
    assert "not delivered" in page and reverse("orders:detail", args=[history["mine"].pk]) in page
    assert "salesperson" not in response.context["form"].fields
    # Naming someone else in the query string changes nothing.
    page = client.get(RISK, {"salesperson": history["other"].pk}).content.decode()
    assert history["theirs"].number not in page


def test_a_manager_sees_everyone_s_orders_at_risk_and_filters_them(client_as, history):
    manager = client_as("manager")
    page = manager.get(RISK).content.decode()
    assert history["mine"].number in page and history["theirs"].number in page
    page = manager.get(RISK, {"salesperson": history["other"].pk}).content.decode()
    assert history["mine"].number not in page and history["theirs"].number in page
    assert "No order at risk matches" in manager.get(RISK, {"reason": "past_due"}).content.decode()
    chips = dict((reason, count) for reason, _label, count in manager.get(RISK).context["reason_chips"])
    assert chips["late"] == 2 and chips["past_due"] == 0


def test_the_queue_reads_in_chinese(client_as, history):
    page = client_as("manager").get(RISK, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "风险订单" in page and "Late:" not in page


def test_a_bad_filter_is_an_error_on_the_page(client_as, history):
    response = client_as("manager").get(RISK, {"reason": "bogus", "salesperson": "x"})
    assert response.status_code == 200 and set(response.context["form"].errors) == {"reason", "salesperson"}
    assert client_as("manager").get(RISK, {"reason": "bogus", "format": "csv"}).status_code == 400


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_the_queue_exports_each_row_with_its_reasons(client, history, fmt):
    client.force_login(history["seller"])
    response = client.get(RISK, {"format": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        rows = csv_rows(response)
        assert rows[0][0] == "Order" and rows[0][-1] == "Why"
        assert [row[0] for row in rows[1:]] == [history["mine"].number]
        assert "not delivered" in rows[1][-1]
    elif fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(body(response))).active
        assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [history["mine"].number]
    else:
        assert body(response).startswith(b"%PDF")


def test_the_queue_page_costs_the_same_queries_for_one_row_or_many(client_as, make_user):
    seller = make_user("sales")
    manager = client_as("manager")
    counts = []
    for new_orders in (1, 5):
        for _ in range(new_orders):
            late_order(seller)
        cycles_rebuild()
        manager.get(RISK)  # the limits row is made and cached on first use
        with count_queries() as queries:
            assert manager.get(RISK).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 14, counts


def test_the_home_page_lists_the_orders_at_risk_for_managers_and_salespeople(client, history, make_user):
    client.force_login(history["seller"])
    page = client.get(reverse("home")).content.decode()
    assert "Orders at risk" in page and history["mine"].number in page and history["theirs"].number not in page
    client.force_login(make_user("manager"))
    page = client.get(reverse("home")).content.decode()
    assert history["mine"].number in page and history["theirs"].number in page
    client.force_login(make_user("warehouse"))
    assert "Orders at risk" not in client.get(reverse("home")).content.decode()


# --- limits -------------------------------------------------------------------------------------------------


def test_a_manager_sets_the_limits_and_the_queue_follows_at_once(client_as, make_user):
    seller = make_user("sales")
    order = late_order(seller, days_late=-5, hours_in_state=10)  # not late; 10 hours allocated
    cycles_rebuild()
    manager = client_as("manager")
    assert order.number not in manager.get(RISK).content.decode()
    values = {f"{state}_hours": "" for state in RiskLimits().hours()}
    values.update({"allocated_hours": "8", "submitted_hours": "2"})
    response = manager.post(LIMITS, values)
    assert response.status_code == 302
    limits = RiskLimits.objects.get()
    assert (limits.allocated_hours, limits.approved_hours, limits.updated_by_id) == (8, None, manager.user.pk)
    page = manager.get(RISK).content.decode()
    assert order.number in page and "the limit is 8 hours" in page


@pytest.mark.parametrize("value", ["0", "-3", "1.5", "abc", "8761", "99999999999999999999"])
def test_a_limit_out_of_range_is_refused_with_a_clear_message_and_nothing_saved(client_as, value):
    response = client_as("manager").post(LIMITS, {"approved_hours": value, "allocated_hours": "12"})
    assert response.status_code == 200
    assert "A limit is a whole number of hours from 1 to 8760" in response.content.decode()
    limits = RiskLimits.current()
    assert (limits.approved_hours, limits.allocated_hours) == (24, 48)


def test_the_limits_start_from_the_defaults_and_read_in_chinese(client_as):
    response = client_as("manager").get(LIMITS, HTTP_ACCEPT_LANGUAGE="zh-hans")
    form = response.context["form"]
    assert form["approved_hours"].value() == 24 and form["shipped_hours"].value() == 240
    assert "风险订单" in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's table locks")
def test_the_home_page_does_not_wait_for_the_nightly_rebuild(client_as):
    """While the rebuild holds the snapshot's table, the queue says so instead of making the home page wait."""
    import threading

    manager = client_as("manager")
    locked, release = threading.Event(), threading.Event()

    def hold_the_table():
        from django.db import connection, transaction

        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE reports_ordercycle IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        page = manager.get(reverse("home")).content.decode()
    finally:
        release.set()
        holder.join(timeout=30)
    assert "being rebuilt" in page


@pytest.mark.parametrize("url", [CYCLES, REVIEW, f"{REVIEW}?breakdown=reviewer", f"{REVIEW}?breakdown=rule"])
def test_the_report_pages_cost_the_same_queries_however_many_orders(client_as, make_user, url):
    seller, reviewer = make_user("sales"), make_user("reviewer")
    manager = client_as("manager")
    t0 = at(timezone.localdate() - timedelta(days=3))
    counts = []
    for new_orders in (1, 4):
        for _ in range(new_orders):
            timeline_order(
                by=seller,
                flags=[ReviewRule.PRICE],
                requested_date=timezone.localdate(),
                steps=[("submitted", t0), ("in_review", t0), ("approved", t0 + timedelta(hours=2), reviewer), ("delivered", t0)],
            )
        cycles_rebuild()
        manager.get(url)
        with count_queries() as queries:
            assert manager.get(url).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 16, counts
