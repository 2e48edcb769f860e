"""Reads of the customer snapshot: the dashboard's figures, the report's sections, the customer page's panel,
and who sees which customers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.translation import override

from customers.tests.factories import ComplaintFactory
from reports.customers.models import Segment
from reports.customers.panels import customer_segment_panel
from reports.customers.selectors import (
    complaint_rates,
    complaint_totals,
    customer_figures,
    new_and_returning,
    payment_behaviour,
    segment_summary,
    top_customers,
)
from reports.customers.snapshot import customer_snapshot_rebuild

from .factories import CustomerFactory, order_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "manager": make_user("manager"),
        "wang": make_user("sales"),
        "li": make_user("sales"),
        "warehouse": make_user("warehouse"),
    }


@pytest.fixture
def book(people):
    """Wang's two customers and Li's one, with orders in known months (today is 2026-06-15)."""
    now = timezone.make_aware(datetime(2026, 6, 15, 12, 0))
    wang_old = CustomerFactory(salesperson=people["wang"], name="老客户")
    wang_new = CustomerFactory(salesperson=people["wang"], name="新客户")
    li_one = CustomerFactory(salesperson=people["li"], name="李的客户")
    seller = people["wang"]
    order_on(customer=wang_old, user=seller, days_ago=120, total="1000.00", now=now)  # 2026-02
    order_on(customer=wang_old, user=seller, days_ago=20, total="300.00", now=now)  # 2026-05
    order_on(customer=wang_new, user=seller, days_ago=10, total="50.00", now=now)  # 2026-06, its first
    order_on(customer=li_one, user=seller, days_ago=12, total="700.00", now=now)  # 2026-06
    order_on(customer=li_one, user=seller, days_ago=400, total="10.00", now=now)  # 2025-05
    ComplaintFactory(customer=wang_new)
    ComplaintFactory(customer=wang_old)
    ComplaintFactory(customer=wang_old)
    customer_snapshot_rebuild(now=now)
    return {"wang_old": wang_old, "wang_new": wang_new, "li_one": li_one, "now": now}


def test_dashboard_figures_count_new_customers_of_the_month_for_whoever_may_see_them(people, book):
    today = date(2026, 6, 15)
    everyone = customer_figures(user=people["manager"], today=today)
    # wang_old ordered least lately of the three, but often and for much: at risk (quintiles of three customers).
    assert (everyone.new_this_month, everyone.active, everyone.at_risk) == (1, 3, 1)
    assert everyone.as_of == book["now"]
    assert customer_figures(user=people["wang"], today=today).new_this_month == 1
    li = customer_figures(user=people["li"], today=today)
    assert (li.new_this_month, li.active) == (0, 1)


def test_segments_sum_to_the_customers_shown(people, book):
    rows = {row.segment: row for row in segment_summary(user=people["manager"])}
    assert sum(row.customers for row in rows.values()) == 3
    assert rows[Segment.NEW].customers == 1 and rows[Segment.NEW].gross_12m == Decimal("50.00")
    assert sum(row.gross_12m for row in rows.values()) == Decimal("2050.00")
    assert rows[Segment.NEW].customer_share == Decimal(1) / 3
    assert rows[Segment.NEW].gross_share == Decimal(50) / Decimal(2050)
    wang = segment_summary(user=people["wang"])
    assert sum(row.customers for row in wang) == 2


def test_top_customers_of_a_period_and_a_salesperson_filter_only_for_managers(people, book):
    manager, wang = people["manager"], people["wang"]
    june = top_customers(user=manager, start=date(2026, 6, 1), end=date(2026, 6, 30)).rows
    assert [row["customer_id"] for row in june] == [book["li_one"].pk, book["wang_new"].pk]
    assert june[0]["name"] == "李的客户" and june[0]["salesperson"] == people["li"].username
    year = top_customers(user=manager, start=date(2025, 7, 1), end=date(2026, 6, 30)).rows
    assert [(row["customer_id"], row["gross"]) for row in year][0] == (book["wang_old"].pk, Decimal("1300.00"))
    narrowed = top_customers(user=manager, start=date(2025, 7, 1), end=date(2026, 6, 30), salesperson_id=people["li"].pk).rows
    assert [row["customer_id"] for row in narrowed] == [book["li_one"].pk]
    # A salesperson asking for someone else's customers still gets only their own.
    own = top_customers(user=wang, start=date(2025, 7, 1), end=date(2026, 6, 30), salesperson_id=people["li"].pk).rows
    assert {row["customer_id"] for row in own} == {book["wang_old"].pk, book["wang_new"].pk}
    new_only = top_customers(user=manager, start=date(2025, 7, 1), end=date(2026, 6, 30), segment=Segment.NEW).rows
    assert [row["customer_id"] for row in new_only] == [book["wang_new"].pk]
    first = top_customers(user=manager, start=date(2025, 7, 1), end=date(2026, 6, 30), limit=1)
    assert len(first.rows) == 1 and (first.customers, first.orders, first.gross) == (3, 4, Decimal("2050.00"))


def test_new_and_returning_customers_per_month(people, book):
    months = {row.month: row for row in new_and_returning(user=people["manager"], start=date(2026, 2, 1), end=date(2026, 6, 30))}
    assert list(months) == [date(2026, m, 1) for m in range(2, 7)]
    assert (months[date(2026, 2, 1)].new_customers, months[date(2026, 2, 1)].returning_customers) == (1, 0)
    assert (months[date(2026, 3, 1)].new_customers, months[date(2026, 3, 1)].returning_customers) == (0, 0)
    june = months[date(2026, 6, 1)]
    assert (june.new_customers, june.returning_customers) == (1, 1)  # wang_new is new; li_one ordered in 2025
    assert (june.new_gross, june.returning_gross) == (Decimal("50.00"), Decimal("700.00"))


def test_complaint_rates_put_the_most_complaints_per_order_first(people, book):
    rows = list(complaint_rates(user=people["manager"]))
    assert [(row.customer, row.complaint_rate) for row in rows] == [
        (book["wang_old"], Decimal("1")),  # two complaints, two orders
        (book["wang_new"], Decimal("1")),  # one complaint, one order: as many per order, fewer complaints
    ]
    totals = complaint_totals(user=people["manager"])
    assert totals == {"complaints": 3, "orders": 4, "rate": Decimal("0.75")}
    assert list(complaint_rates(user=people["li"])) == []


def test_the_customer_page_shows_the_segment_to_managers_and_the_customers_own_salesperson(people, book):
    customer = book["wang_new"]
    panel = customer_segment_panel(customer=customer, user=people["manager"])
    assert panel is not None and panel.chips[0].text == "New"
    assert "status" in panel.chips[0].badge
    assert customer_segment_panel(customer=customer, user=people["wang"]) is not None
    assert customer_segment_panel(customer=customer, user=people["li"]) is None
    assert customer_segment_panel(customer=customer, user=people["warehouse"]) is None
    with override("zh-hans"):
        chinese = customer_segment_panel(customer=customer, user=people["manager"])
    assert chinese.chips[0].text == "新客户"
    assert "90" in chinese.chips[1].text
    assert [cell.text for cell in panel.rows[0][:3]] == ["4 of 5", "1 of 5", "1 of 5"]


def test_a_customer_never_scored_has_no_panel_yet(people):
    assert customer_segment_panel(customer=CustomerFactory(), user=people["manager"]) is None


def test_the_customer_page_shows_the_section_in_a_fixed_number_of_queries(client, people, book):
    client.force_login(people["manager"])
    response = client.get(book["wang_old"].get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200 and 'id="customer-value"' in body
    assert "days ago" in body


def test_last_order_days_are_counted_in_local_days(people, book):
    panel = customer_segment_panel(customer=book["wang_old"], user=people["manager"])
    days = (timezone.localdate() - timezone.localdate(book["now"] - timedelta(days=20))).days
    assert panel.rows[0][3].text == f"2026-05-26 ({days} days ago)"


def test_payment_behaviour_counts_invoices_paid_on_time_and_late(monkeypatch):
    from billing.models import Invoice
    from billing.payments.services import payment_record
    from billing.tests.factories import company_customer, finance_user, issued_invoice

    customer = company_customer(payment_terms_days=30)
    clerk = finance_user()
    sixty_days_ago = timezone.now() - timedelta(days=60)
    with monkeypatch.context() as patched:  # issued 60 days ago, due 30 days later
        patched.setattr("django.utils.timezone.now", lambda: sixty_days_ago)
        on_time = issued_invoice(customer=customer, by=clerk)
        late = issued_invoice(customer=customer, by=clerk)
        still_open = issued_invoice(customer=customer, by=clerk)
    issued_on = timezone.localdate(on_time.issued_at)
    payment_record(
        customer=customer,
        amount=on_time.total_gross,
        date=issued_on + timedelta(days=10),
        method="bank_transfer",
        by=clerk,
        allocations=[(on_time, on_time.total_gross)],
    )
    payment_record(
        customer=customer,
        amount=late.total_gross,
        date=issued_on + timedelta(days=36),
        method="bank_transfer",
        by=clerk,
        allocations=[(Invoice.objects.get(pk=late.pk), late.total_gross)],
    )

    behaviour = payment_behaviour(customer=customer)

    assert (behaviour.invoices, behaviour.paid, behaviour.paid_on_time) == (3, 2, 1)
    assert behaviour.average_days_to_pay == Decimal("23.0")  # (10 + 36) / 2
    assert behaviour.average_days_late == Decimal("6.0")
    assert behaviour.open_receivables == still_open.total_gross
    assert (behaviour.overdue, behaviour.overdue_invoices) == (still_open.total_gross, 1)
