"""A report served through `report_page` for the foundation's tests (not part of the app's URLs)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import permission_required
from django.urls import include, path

from reports.access import salesperson_scope
from reports.forms import PeriodForm
from reports.pages import Chart, Column, Figure, ReportResult, report_page
from reports.periods import bucket_label, buckets
from reports.snapshots import snapshot_as_of


def build(data, user):
    days = buckets(data["start"], data["end"], data["grain"])
    scope = salesperson_scope(user)
    rows = [
        {
            "period": bucket_label(day, data["grain"]),
            "name": '=HYPERLINK("x")' if n == 0 else "华东 客户",
            "net": Decimal("1234.5") * (n + 1),
        }
        for n, day in enumerate(days)
    ]
    return ReportResult(
        columns=[Column("period", "Period"), Column("name", "Name"), Column("net", "Net", "money")],
        rows=rows,
        totals={"period": "Total", "net": sum((row["net"] for row in rows), Decimal(0))},
        charts=[
            Chart("bar", "净额 by period", [row["period"] for row in rows], [("净额", [row["net"] for row in rows])], money=True)
        ],
        figures=[Figure("Scope", "all" if scope is None else str(scope), "text", delta=Decimal("0.125"))],
        as_of=snapshot_as_of("test"),
        notes=["Test report"],
    )


@permission_required("reports.view_sales_report", raise_exception=True)
def sample(request):
    return report_page(request, name="sample", title="Sample report", form=PeriodForm(request.GET), build=build)


urlpatterns = [path("sample/", sample, name="sample"), path("", include("config.urls"))]
