"""The figures each role watches, beside its queues on the home page (settings.HOME_FIGURE_PROVIDERS).

Sales see their own month (and their customers' overdue money), the warehouse its stock alerts and
on-time delivery, finance the receivables, managers the month at a glance with the way to the dashboard.
Like the queues, figures go by the roles the user holds, and each needs its report's permission.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.home import HomeFigure
from config.roles import FINANCE, MANAGER, SALES, WAREHOUSE, user_roles
from reports.cycles.cached import at_risk_now
from reports.snapshots import snapshot_read

from . import sources
from .figures import CachedFigures
from .selectors import report_url


def _at_risk(figures: CachedFigures) -> int | None:
    """How many orders are at risk, or None (a dash) while the nightly rebuild holds the cycles: the rest shows."""
    return at_risk_now(salesperson_id=figures.scope, figure_cache=figures.cache)


def _sales(user, today) -> list[HomeFigure]:
    month_start = today.replace(day=1)
    figures = CachedFigures(scope=user.pk)
    month = figures.sales_totals(start=month_start, end=today)
    at_risk = _at_risk(figures)
    overdue = sources.receivables(as_of=today, salesperson_id=user.pk).overdue
    sales_url = report_url("reports:sales")
    return [
        HomeFigure(_("My revenue (net)"), month and month.revenue, "money", sales_url, _("Month to date"), SALES),
        HomeFigure(_("My orders"), month and month.orders, "int", sales_url, _("Month to date"), SALES),
        HomeFigure(_("My orders at risk"), at_risk, "int", report_url("reports:at_risk"), "", SALES),
        # Sales may not open the receivables report: the figure leads to their own orders that are overdue.
        HomeFigure(
            _("Overdue, my customers"), overdue, "money", f"{reverse('orders:list')}?mine=1&payment_status=overdue", "", SALES
        ),
    ]


def _warehouse(user, today) -> list[HomeFigure]:
    month_start = today.replace(day=1)
    alerts = sources.stock_alerts(limit=0).count
    value, out_of_stock = sources.stock_value_and_outages(day=today)
    on_time = CachedFigures(scope=None).on_time_rate(start=month_start, end=today)
    stock_url = report_url("reports:stock")
    return [
        HomeFigure(_("Stock alerts"), alerts, "int", report_url("inventory:alert_list"), "", WAREHOUSE),
        HomeFigure(_("Products out of stock"), out_of_stock, "int", stock_url, "", WAREHOUSE),
        HomeFigure(_("Stock value"), value, "money", stock_url, _("At cost"), WAREHOUSE),
        HomeFigure(_("On-time delivery"), on_time, "percent", report_url("reports:cycle_times"), _("Month to date"), WAREHOUSE),
    ]


def _finance(user, today) -> list[HomeFigure]:
    receivables = sources.receivables(as_of=today)
    dso, received = sources.receivables_dso_and_received(start=today.replace(day=1), end=today)
    url = report_url("reports:receivables")
    return [
        HomeFigure(_("Overdue receivables"), receivables.overdue, "money", url, "", FINANCE),
        HomeFigure(_("Open receivables"), receivables.total, "money", url, "", FINANCE),
        HomeFigure(_("DSO"), dso, "days", url, _("Last 90 days"), FINANCE),
        HomeFigure(_("Money received"), received, "money", url, _("Month to date"), FINANCE),
    ]


def _manager(user, today) -> list[HomeFigure]:
    month_start = today.replace(day=1)
    # The dashboard's own figures, under its keys: whichever page comes first computes them for the other.
    figures = CachedFigures(scope=None)
    month = figures.sales_totals(start=month_start, end=today)
    dashboard = report_url("reports:dashboard")
    return [
        HomeFigure(_("Revenue (net)"), month and month.revenue, "money", dashboard, _("Month to date"), MANAGER),
        HomeFigure(_("Gross margin rate"), month and month.margin_rate, "percent", dashboard, _("Month to date"), MANAGER),
        HomeFigure(_("Orders at risk"), _at_risk(figures), "int", report_url("reports:at_risk"), "", MANAGER),
        HomeFigure(_("Overdue receivables"), sources.receivables(as_of=today).overdue, "money", dashboard, "", MANAGER),
    ]


# role: (the permission its figures need, the figures)
ROLE_FIGURES = [
    (MANAGER, "reports.view_reports", _manager),
    (SALES, "reports.view_sales_report", _sales),
    (WAREHOUSE, "reports.view_stock_report", _warehouse),
    (FINANCE, "reports.view_receivables_report", _finance),
]


def home_figures(user) -> list[HomeFigure]:
    """The figures of the roles this user holds and may read (a manager's alone when they are also something else).

    While a nightly rebuild holds a snapshot a role's figures read, that role's figures are left out for the
    minute (reports.snapshots.snapshot_read): the home page never waits for the rebuild.
    """
    groups = user_roles(user)
    today = timezone.localdate()
    roles = [(role, figures) for role, permission, figures in ROLE_FIGURES if role in groups and user.has_perm(permission)]
    if any(role == MANAGER for role, _figures in roles):
        roles = [(role, figures) for role, figures in roles if role == MANAGER]
    found: list[HomeFigure] = []
    for _role, figures in roles:
        found.extend(snapshot_read(lambda figures=figures: figures(user, today), default=[]))
    return found
