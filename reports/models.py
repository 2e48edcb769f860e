"""The reports app's own records: when each snapshot was last refreshed, and the report permissions.

Report areas keep their snapshot tables in `reports/<area>/models.py`; they are imported below so that
the app label stays `reports`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SnapshotState(models.Model):
    """One row per snapshot table: the moment its data was last brought up to date ("data as of")."""

    name = models.CharField(_("snapshot"), max_length=60, unique=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    rebuilt_at = models.DateTimeField(_("rebuilt in full at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")
        default_permissions = ()
        permissions = [
            ("view_reports", _("Can read the manager dashboard and every report")),
            ("view_all_figures", _("Can see every salesperson's figures")),
            ("view_sales_report", _("Can read the sales report")),
            ("view_margin_report", _("Can read the margin report")),
            ("view_cycle_report", _("Can read the cycle times report")),
            ("view_stock_report", _("Can read the stock report")),
            ("view_receivables_report", _("Can read the receivables report")),
            ("view_customer_report", _("Can read the customer report")),
            ("view_review_report", _("Can read the review report")),
            ("view_risk_queue", _("Can see the orders at risk")),
            ("change_risk_limits", _("Can set how long an order may stay in each state")),
        ]

    def __str__(self) -> str:
        return self.name


class DirtyKey(models.Model):
    """An order (or customer) whose rows in one report area changed and wait for the area's next batch
    refresh (reports.dirty). Marks are plain inserts, so a mark never waits on a batch being refreshed."""

    area = models.CharField(_("report area"), max_length=20)
    key = models.BigIntegerField(_("key"))
    marked_at = models.DateTimeField(_("marked at"))

    class Meta:
        verbose_name = _("report row to refresh")
        verbose_name_plural = _("report rows to refresh")
        default_permissions = ()
        indexes = [models.Index(fields=["area", "id"], name="reports_dirty_area")]

    def __str__(self) -> str:
        return f"{self.area} {self.key}"


from reports.customers.models import CustomerMonth, CustomerSnapshot, RfmBounds  # noqa: E402, F401
from reports.cycles.models import (  # noqa: E402,F401
    CycleStageTime,
    CycleWeek,
    DeliveryDay,
    OrderCycle,
    ReviewCase,
    ReviewDay,
    ReviewFlag,
    RiskLimits,
)
from reports.nightly.models import NightlyReport, NightlyReportDelivery, NightlyReportFile  # noqa: E402,F401
from reports.receivables.models import CollectionDay, ReceivablesDay  # noqa: E402,F401
from reports.sales.models import (  # noqa: E402,F401
    MarginByCustomer,
    MarginByProduct,
    MarginLineFact,
    MarginTotals,
    SalesByCustomer,
    SalesByProduct,
    SalesLineFact,
    SalesOrderFact,
    SalesTotals,
)
from reports.stock.models import StockDay, StockTotalDay  # noqa: E402,F401
