"""The figures other pages call: one salesperson's weekly percentiles, on-time rates over any period, and the
dashboard's cycle_figures."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest
from django.utils import timezone

from reports.cycles.models import Stage
from reports.cycles.refresh import cycles_rebuild
from reports.cycles.selectors import cycle_figures, on_time_weeks, risk_summary, stage_period, stage_weeks

from .factories import approved_in, at, timeline_order

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
HOUR = 3600


def test_one_salesperson_s_weekly_percentiles_are_those_of_their_orders_alone(make_user):
    seller, other = make_user("sales"), make_user("sales")
    mine, theirs = [1, 2, 4, 8, 16], [60, 100]
    for hours in mine:
        approved_in(by=seller, submitted=at(MONDAY), hours=hours)
    for hours in theirs:
        approved_in(by=other, submitted=at(MONDAY), hours=hours)
    cycles_rebuild()
    (everyone,) = stage_weeks(start=MONDAY, end=MONDAY, stages=[Stage.SUBMIT_APPROVE])
    assert everyone.orders == 7 and everyone.median_seconds == 8 * HOUR
    (own,) = stage_weeks(start=MONDAY, end=MONDAY, salesperson_id=seller.pk, stages=[Stage.SUBMIT_APPROVE])
    seconds = [h * HOUR for h in mine]
    assert (own.week, own.orders, own.median_seconds) == (MONDAY, 5, statistics.median(seconds))
    assert own.p90_seconds == pytest.approx(statistics.quantiles(seconds, n=10, method="inclusive")[8])


def test_a_stage_over_a_whole_period_takes_every_week_together(make_user):
    seller = make_user("sales")
    for week, hours in ((0, 1), (0, 2), (1, 30), (2, 40)):
        approved_in(by=seller, submitted=at(MONDAY + timedelta(days=7 * week)), hours=hours)
    cycles_rebuild()
    period = stage_period(stage=Stage.SUBMIT_APPROVE, start=MONDAY, end=MONDAY + timedelta(days=20))
    assert (period.orders, period.median_seconds) == (4, 16 * HOUR)
    assert stage_period(stage=Stage.REVIEW, start=MONDAY, end=MONDAY) is None


def test_on_time_rates_over_a_period_and_the_dashboard_figures(make_user):
    seller = make_user("sales")
    today = timezone.localdate()
    delivered = at(today - timedelta(days=1), 15)
    for requested in (today, today - timedelta(days=3), today - timedelta(days=1), None):
        timeline_order(by=seller, requested_date=requested, steps=[("submitted", delivered), ("delivered", delivered)])
    timeline_order(
        by=seller,
        requested_date=today - timedelta(days=2),
        steps=[("submitted", at(today - timedelta(days=5))), ("allocated", at(today - timedelta(days=5)))],
    )
    cycles_rebuild()
    figures = cycle_figures(start=today - timedelta(days=7), end=today)
    assert (figures.on_time.delivered, figures.on_time.with_requested, figures.on_time.on_time_requested) == (4, 3, 2)
    assert float(figures.on_time_rate) == pytest.approx(2 / 3, abs=1e-4)
    assert figures.on_time_eta_rate is None  # no shipment promised an ETA
    assert figures.at_risk == 1
    assert cycle_figures(start=today - timedelta(days=7), end=today, salesperson_id=seller.pk + 1000).at_risk == 0
    weeks = on_time_weeks(start=today - timedelta(days=14), end=today)
    assert len(weeks) >= 3 and sum(week.delivered for week in weeks.values()) == 4


def test_the_risk_summary_counts_each_reason_and_words_the_first_orders(make_user):
    seller = make_user("sales")
    now = timezone.now()
    for days_late in (1, 4):
        timeline_order(
            by=seller,
            requested_date=timezone.localdate() - timedelta(days=days_late),
            steps=[("submitted", now - timedelta(hours=2)), ("allocated", now - timedelta(hours=1))],
        )
    cycles_rebuild()
    summary = risk_summary(limit=1)
    assert summary.count == 2 and summary.by_reason["late"] == 2 and summary.by_reason["stuck"] == 0
    (row,) = summary.rows
    assert [note.reason for note in row.notes] == ["late"] and "not delivered" in row.notes[0].text
    assert risk_summary(salesperson_id=seller.pk + 1000).count == 0
