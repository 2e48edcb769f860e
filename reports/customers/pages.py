"""The customer report's tables and charts (segments, top customers, new and returning customers, complaint
rates) and one customer's relationship report, built from the customer snapshot."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from config.money import ZERO
from customers.models import Customer
from reports.pages import Chart, Column, Figure, ReportResult
from reports.periods import bucket_label

from . import selectors
from .segments import segment_description, segment_label, segment_labels

VIEW_PERMISSION = selectors.VIEW_PERMISSION
TOP_IN_CHART = 10


def _relationship_url(customer_id: int) -> str:
    return reverse("reports:customer_relationship", args=[customer_id])


def _relationship_link(row: dict) -> str | None:
    """A customer row's link to its relationship report (none on the totals row)."""
    return _relationship_url(row["id"]) if "id" in row else None


def _share(part, whole) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def _notes() -> list[str]:
    return [
        _("Orders count when approved and not cancelled, on the day they were entered, for their total."),
        _("Segments, scores and complaint rates cover the 12 months before the data's date; the period, whole months."),
    ]


def _segments(data: dict, user) -> ReportResult:
    rows = selectors.segment_summary(user=user, salesperson_id=data["salesperson"])
    customers = sum(row.customers for row in rows)
    gross = sum((row.gross_12m for row in rows), ZERO)
    labels = [segment_label(row.segment) for row in rows]
    figures = selectors.customer_figures(user=user, salesperson_id=data["salesperson"])
    return ReportResult(
        columns=[
            Column("label", _("RFM segment"), link=lambda row: row.get("link")),
            Column("description", _("What it means")),
            Column("customers", _("Customers"), "int"),
            Column("customer_share", _("Share of customers"), "percent"),
            Column("orders_12m", _("Orders in 12 months"), "int"),
            Column("gross_12m", _("Gross amount in 12 months"), "money"),
            Column("gross_share", _("Share of gross amount"), "percent"),
            Column("average", _("Gross amount per customer"), "money"),
        ],
        rows=[
            {
                "label": segment_label(row.segment),
                "link": "?" + urlencode({**_kept(data), "view": "top", "segment": row.segment}),
                "description": segment_description(row.segment),
                "customers": row.customers,
                "customer_share": row.customer_share,
                "orders_12m": row.orders_12m,
                "gross_12m": row.gross_12m,
                "gross_share": row.gross_share,
                "average": (row.gross_12m / row.customers).quantize(Decimal("0.01")) if row.customers else None,
            }
            for row in rows
        ],
        totals={
            "label": _("Total"),
            "customers": customers,
            "orders_12m": sum(row.orders_12m for row in rows),
            "gross_12m": gross,
        },
        charts=[
            Chart("bar", _("Customers per segment"), labels, [(_("Customers"), [row.customers for row in rows])]),
            Chart(
                "bar",
                _("Gross amount in 12 months per segment"),
                labels,
                [(_("Gross amount"), [row.gross_12m for row in rows])],
                money=True,
            ),
        ],
        figures=[
            Figure(_("Active customers"), figures.active),
            Figure(_("New customers this month"), figures.new_this_month),
            Figure(_("Customers at risk"), figures.at_risk),
            Figure(_("Lost customers"), figures.lost),
        ],
        as_of=selectors.customers_as_of(),
        notes=_notes(),
    )


def _top(data: dict, user) -> ReportResult:
    top = selectors.top_customers(
        user=user,
        start=data["start"],
        end=data["end"],
        segment=data["segment"],
        salesperson_id=data["salesperson"],
        limit=selectors.TOP_CUSTOMERS,
    )
    labels = segment_labels()
    table = [
        {
            "rank": rank,
            "id": row["customer_id"],
            "customer": f"{row['name']} ({row['code']})",
            "salesperson": row["salesperson"],
            "segment": labels.get(row["segment"], row["segment"]),
            "rfm": f"{row['recency_score']}-{row['frequency_score']}-{row['monetary_score']}" if row["recency_score"] else "",
            "orders": row["orders"],
            "gross": row["gross"],
            "last_order": row["last_order_at"],
            "gross_12m": row["gross_12m"],
        }
        for rank, row in enumerate(top.rows, start=1)
    ]
    chart_rows = table[:TOP_IN_CHART]
    notes = _notes()
    if top.customers > len(table):
        notes.append(
            _("The first %(shown)s of %(customers)s customers are listed; the totals cover them all.")
            % {"shown": len(table), "customers": top.customers}
        )
    return ReportResult(
        columns=[
            Column("rank", _("Rank"), "int"),
            Column("customer", _("Customer"), link=_relationship_link),
            Column("salesperson", _("Salesperson")),
            Column("segment", _("RFM segment")),
            Column("rfm", _("R-F-M")),
            Column("orders", _("Orders"), "int"),
            Column("gross", _("Gross amount"), "money"),
            Column("last_order", _("Last order"), "date"),
            Column("gross_12m", _("Gross amount in 12 months"), "money"),
        ],
        rows=table,
        totals={"customer": _("Total"), "orders": top.orders, "gross": top.gross},
        charts=[
            Chart(
                "hbar",
                _("The %(count)s customers with the most gross amount") % {"count": len(chart_rows)},
                [row["customer"] for row in chart_rows],
                [(_("Gross amount"), [row["gross"] for row in chart_rows])],
                money=True,
            )
        ]
        if chart_rows
        else [],
        figures=[
            Figure(_("Customers who ordered"), top.customers),
            Figure(_("Gross amount"), top.gross, "money"),
            Figure(
                _("Share of the first %(count)s") % {"count": TOP_IN_CHART},
                _share(sum((row["gross"] for row in chart_rows), ZERO), top.gross),
                "percent",
            ),
        ],
        as_of=selectors.customers_as_of(),
        notes=notes,
    )


def _new_returning(data: dict, user) -> ReportResult:
    rows = selectors.new_and_returning(user=user, start=data["start"], end=data["end"], salesperson_id=data["salesperson"])
    labels = [bucket_label(row.month, "month") for row in rows]
    new = sum(row.new_customers for row in rows)
    new_gross = sum((row.new_gross for row in rows), ZERO)
    returning_gross = sum((row.returning_gross for row in rows), ZERO)
    return ReportResult(
        columns=[
            Column("month", _("Month")),
            Column("new", _("New customers"), "int"),
            Column("returning", _("Returning customers"), "int"),
            Column("new_share", _("Share of new customers"), "percent"),
            Column("new_gross", _("Gross amount from new customers"), "money"),
            Column("returning_gross", _("Gross amount from returning customers"), "money"),
        ],
        rows=[
            {
                "month": label,
                "new": row.new_customers,
                "returning": row.returning_customers,
                "new_share": _share(row.new_customers, row.new_customers + row.returning_customers),
                "new_gross": row.new_gross,
                "returning_gross": row.returning_gross,
            }
            for label, row in zip(labels, rows, strict=True)
        ],
        totals={"month": _("Total"), "new": new, "new_gross": new_gross, "returning_gross": returning_gross},
        charts=[
            Chart(
                "stacked_bar",
                _("New and returning customers per month"),
                labels,
                [
                    (_("New customers"), [row.new_customers for row in rows]),
                    (_("Returning customers"), [row.returning_customers for row in rows]),
                ],
            ),
            Chart(
                "stacked_bar",
                _("Gross amount from new and returning customers"),
                labels,
                [
                    (_("New customers"), [row.new_gross for row in rows]),
                    (_("Returning customers"), [row.returning_gross for row in rows]),
                ],
                money=True,
            ),
        ],
        figures=[
            Figure(_("New customers"), new),
            Figure(_("Gross amount from new customers"), new_gross, "money"),
            Figure(_("Share of gross amount from new customers"), _share(new_gross, new_gross + returning_gross), "percent"),
        ],
        as_of=selectors.customers_as_of(),
        notes=[*_notes(), _("A customer is new in the month of its first order, returning in every later month it orders.")],
    )


def _complaints(data: dict, user) -> ReportResult:
    rows = list(selectors.complaint_rates(user=user, segment=data["segment"], salesperson_id=data["salesperson"]))
    labels = segment_labels()
    totals = selectors.complaint_totals(user=user, salesperson_id=data["salesperson"])
    chart_rows = sorted(rows, key=lambda row: (-row.complaints_12m, row.customer_id))[:TOP_IN_CHART]
    return ReportResult(
        columns=[
            Column("customer", _("Customer"), link=_relationship_link),
            Column("salesperson", _("Salesperson")),
            Column("segment", _("RFM segment")),
            Column("orders_12m", _("Orders in 12 months"), "int"),
            Column("complaints_12m", _("Complaints in 12 months"), "int"),
            Column("rate", _("Complaints per order"), "percent"),
            Column("open_complaints", _("Open complaints"), "int"),
            Column("returns_12m", _("Returns in 12 months"), "int"),
        ],
        rows=[
            {
                "id": row.customer_id,
                "customer": str(row.customer),
                "salesperson": (row.customer.salesperson.get_full_name() or row.customer.salesperson.username)
                if row.customer.salesperson
                else "",
                "segment": labels.get(row.segment, row.segment),
                "orders_12m": row.orders_12m,
                "complaints_12m": row.complaints_12m,
                "rate": row.complaint_rate,
                "open_complaints": row.open_complaints,
                "returns_12m": row.returns_12m,
            }
            for row in rows
        ],
        totals={
            "customer": _("All customers shown"),
            "orders_12m": totals["orders"],
            "complaints_12m": totals["complaints"],
            "rate": totals["rate"],
        },
        charts=[
            Chart(
                "hbar",
                _("Customers with the most complaints in 12 months"),
                [str(row.customer) for row in chart_rows],
                [(_("Complaints"), [row.complaints_12m for row in chart_rows])],
            )
        ]
        if chart_rows
        else [],
        figures=[
            Figure(_("Complaints in 12 months"), totals["complaints"]),
            Figure(_("Complaints per order"), totals["rate"], "percent"),
            Figure(_("Customers with complaints"), len(rows)),
        ],
        as_of=selectors.customers_as_of(),
        notes=_notes(),
    )


BUILDERS = {"segments": _segments, "top": _top, "new_returning": _new_returning, "complaints": _complaints}


def _kept(data: dict) -> dict:
    """The filters a link from one view of the report to another keeps."""
    kept = {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
    if data.get("salesperson"):
        kept["salesperson"] = data["salesperson"]
    return kept


def build_customer_report(data: dict, user) -> ReportResult:
    return BUILDERS[data["view"]](data, user)


def build_relationship(data: dict, user, *, customer: Customer) -> ReportResult:
    """The customer's orders and gross amount per month (or what it bought) in the period, with its figures."""
    months = selectors.relationship_months(customer=customer, start=data["start"], end=data["end"])
    snapshot = selectors.customer_snapshot(customer=customer)
    labels = [bucket_label(row["month"], "month") for row in months]
    orders = sum(row["orders"] for row in months)
    gross = sum((row["gross"] for row in months), ZERO)
    charts = [
        Chart("bar", _("Gross amount per month"), labels, [(_("Gross amount"), [row["gross"] for row in months])], money=True),
        Chart("line", _("Orders per month"), labels, [(_("Orders"), [row["orders"] for row in months])]),
    ]
    figures = [
        Figure(_("Orders"), orders),
        Figure(_("Gross amount"), gross, "money"),
        Figure(_("Average order"), (gross / orders).quantize(Decimal("0.01")) if orders else None, "money"),
    ]
    if snapshot is not None:
        figures += [
            Figure(_("Open orders"), snapshot.open_orders),
            Figure(_("Complaints in 12 months"), snapshot.complaints_12m),
        ]
    notes = _notes()[:1]
    if data["view"] == "products":
        products = selectors.relationship_products(customer=customer, start=data["start"], end=data["end"], limit=None)
        return ReportResult(
            columns=[
                Column("sku", _("SKU")),
                Column(
                    "product",
                    _("Product"),
                    link=lambda row: reverse("inventory:product_detail", args=[row["id"]]) if "id" in row else None,
                ),
                Column("quantity", _("Quantity"), "int"),
                Column("net", _("Net amount"), "money"),
                Column("orders", _("Orders"), "int"),
                Column("last", _("Last ordered"), "date"),
            ],
            rows=[
                {
                    "id": row["product_id"],
                    "sku": row["product__sku"],
                    "product": row["product__name"],
                    "quantity": row["quantity"],
                    "net": row["net"],
                    "orders": row["orders"],
                    "last": row["last_ordered_at"],
                }
                for row in products
            ],
            totals={"sku": _("Total"), "net": sum((row["net"] for row in products), ZERO)},
            charts=charts,
            figures=figures,
            as_of=selectors.customers_as_of(),
            notes=notes,
        )
    return ReportResult(
        columns=[
            Column("month", _("Month")),
            Column("orders", _("Orders"), "int"),
            Column("net", _("Net amount"), "money"),
            Column("gross", _("Gross amount"), "money"),
        ],
        rows=[{**row, "month": label} for label, row in zip(labels, months, strict=True)],
        totals={"month": _("Total"), "orders": orders, "net": sum((row["net"] for row in months), ZERO), "gross": gross},
        charts=charts,
        figures=figures,
        as_of=selectors.customers_as_of(),
        notes=notes,
    )
