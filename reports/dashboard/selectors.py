"""The manager dashboard: today and the month to date at a glance, with small charts and the way into each report.

Every figure comes from reports.dashboard.sources (the report areas' snapshot selectors): the page never
aggregates the order tables itself, so it stays fast at a million orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from reports.access import salesperson_scope
from reports.charts import chart_svg
from reports.pages import Chart, Figure
from reports.snapshots import snapshot_read

from . import sources
from .cache import HELD, FigureCache, cached_svg
from .figures import CachedFigures


@dataclass
class SmallChart(Chart):
    """A chart drawn at a small size, so its text stays readable three to a row on the dashboard."""

    @cached_property
    def svg(self) -> str:
        return cached_svg(
            chart_svg,
            kind=self.kind,
            title=str(self.title),
            labels=[str(label) for label in self.labels],
            series=[(str(name), list(values)) for name, values in self.series],
            money=self.money,
            width=460,
            height=300,
        )


@dataclass
class ReportLink:
    label: str
    url: str


@dataclass
class Dashboard:
    today: date
    month_start: date
    today_figures: list[Figure]
    month_figures: list[Figure]
    charts: list[Chart]
    links: list[ReportLink]
    as_of: datetime | None = None
    being_rebuilt: list[str] = field(default_factory=list)  # areas whose figures a full rebuild holds right now


def report_url(name: str) -> str:
    """The URL of a report page, or "" while that report does not exist yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def report_links(user) -> list[ReportLink]:
    """The reports the user may open, in the order a manager reads them."""
    candidates = [
        (_("Sales report"), "reports:sales", "reports.view_sales_report"),
        (_("Margins"), "reports:margins", "reports.view_margin_report"),
        (_("Cycle times"), "reports:cycle_times", "reports.view_cycle_report"),
        (_("Orders at risk"), "reports:at_risk", "reports.view_risk_queue"),
        (_("Stock report"), "reports:stock", "reports.view_stock_report"),
        (_("Receivables report"), "reports:receivables", "reports.view_receivables_report"),
        (_("Customer report"), "reports:customers", "reports.view_customer_report"),
        (_("Review report"), "reports:review", "reports.view_review_report"),
        (_("Nightly reports"), "reports:nightly_list", "reports.view_reports"),
    ]
    links = []
    for label, name, permission in candidates:
        url = report_url(name)
        if url and user.has_perm(permission):
            links.append(ReportLink(label, url))
    return links


def overview_charts(*, daily, receivables, risk, chart: type[Chart] = Chart) -> list[Chart]:
    """Revenue per day of the month, receivables by age, orders at risk by reason (each when it has figures)."""
    charts = []
    if daily:
        charts.append(
            chart(
                kind="bar",
                title=_("Revenue per day, month to date"),
                labels=[str(d.day.day) for d in daily],
                series=[(_("Revenue (net)"), [d.revenue for d in daily])],
                money=True,
            )
        )
    if receivables is not None:
        charts.append(
            chart(
                kind="bar",
                title=_("Receivables by age"),
                labels=[sources.ageing_label(bucket) for bucket in receivables.buckets],
                series=[(_("Open amount"), [bucket.amount for bucket in receivables.buckets])],
                money=True,
            )
        )
    if risk and any(risk.by_reason.values()):
        reasons = sorted(risk.by_reason.items(), key=lambda item: (-item[1], item[0]))
        charts.append(
            chart(
                kind="hbar",
                title=_("Orders at risk by reason"),
                labels=[sources.risk_reason_label(key) for key, _count in reasons],
                series=[(_("Orders"), [count for _key, count in reasons])],
            )
        )
    return charts


def manager_dashboard(*, user, today: date | None = None) -> Dashboard:
    """Today's and the month's revenue, orders, margin, on-time delivery, overdue receivables and orders at risk.

    The costly figures come through the figure cache (reports.dashboard.figures), computed again only after a
    refresh of the snapshot they are read from; the manager's home reuses them."""
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    scope = salesperson_scope(user)
    held: list[str] = []

    def guarded(area: str):
        def guard(figures):
            """The figures, or HELD (a dash) while a full rebuild holds their table: the page never waits for it."""
            found = snapshot_read(figures, default=HELD)
            if found is HELD:
                held.append(area)
            return found

        return guard

    def shown(found):
        return None if found is HELD else found

    sales, cycles, receivables_area = _("Sales and margin"), _("Cycle times"), _("Receivables")
    figure_cache = FigureCache()
    sales_figures = CachedFigures(scope=scope, figure_cache=figure_cache, guard=guarded(sales))
    cycle_figures = CachedFigures(scope=scope, figure_cache=figure_cache, guard=guarded(cycles))
    day_sales = shown(sales_figures.sales_totals(start=today, end=today))
    month_sales = shown(sales_figures.sales_totals(start=month_start, end=today))
    daily = shown(sales_figures.sales_by_day(start=month_start, end=today))
    on_time = shown(cycle_figures.on_time_rate(start=month_start, end=today))
    risk = shown(cycle_figures.orders_at_risk())
    receivables = shown(guarded(receivables_area)(lambda: sources.receivables(as_of=today, salesperson_id=scope)))

    sales_url, margin_url = report_url("reports:sales"), report_url("reports:margins")
    today_figures = [
        Figure(_("Revenue (net)"), day_sales and day_sales.revenue, "money", url=sales_url),
        Figure(_("Orders"), day_sales and day_sales.orders, "int", url=sales_url),
        Figure(_("Gross margin"), day_sales and day_sales.margin, "money", url=margin_url),
    ]
    month_figures = [
        Figure(_("Revenue (net)"), month_sales and month_sales.revenue, "money", url=sales_url),
        Figure(_("Orders"), month_sales and month_sales.orders, "int", url=sales_url),
        Figure(_("Gross margin"), month_sales and month_sales.margin, "money", url=margin_url),
        Figure(_("Gross margin rate"), month_sales and month_sales.margin_rate, "percent", url=margin_url),
        Figure(_("On-time delivery"), on_time, "percent", url=report_url("reports:cycle_times")),
        Figure(_("Overdue receivables"), receivables and receivables.overdue, "money", url=report_url("reports:receivables")),
        Figure(_("Orders at risk"), risk and risk.count, "int", url=report_url("reports:at_risk")),
    ]
    return Dashboard(
        today=today,
        month_start=month_start,
        today_figures=today_figures,
        month_figures=month_figures,
        charts=overview_charts(daily=daily, receivables=receivables, risk=risk, chart=SmallChart),
        links=report_links(user),
        as_of=figure_cache.as_of(*sources.DASHBOARD_SNAPSHOTS),
        being_rebuilt=list(dict.fromkeys(held)),
    )
