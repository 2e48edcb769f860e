"""The main navigation: business areas, each a menu of the pages a role works in, shown only with its permission.

An entry appears when its URL name exists (the app that serves it is installed) and the user holds
one of its permissions; an area appears when at least one of its entries does. Entries of apps still
to come (shipping, finance, reports) are declared here already and appear once their pages exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    permission: str | tuple[str, ...] | None  # any one of them opens the page; None: every signed-in user

    def permissions(self) -> tuple[str, ...]:
        if self.permission is None:
            return ()
        return (self.permission,) if isinstance(self.permission, str) else self.permission

    def allows(self, user) -> bool:
        perms = self.permissions()
        return not perms or any(user.has_perm(perm) for perm in perms)


@dataclass(frozen=True)
class NavArea:
    key: str
    label: str
    entries: tuple[NavEntry, ...]


NAV_AREAS: list[NavArea] = [
    NavArea(
        "sales",
        pgettext_lazy("navigation area", "Sales"),
        (
            NavEntry(_("Orders"), "orders:list", "orders.view_salesorder"),
            NavEntry(_("New order"), "orders:create", "orders.add_salesorder"),
            NavEntry(_("Customers"), "customers:list", "customers.view_customer"),
            NavEntry(_("Complaints"), "customers:complaint_list", "customers.view_complaint"),
        ),
    ),
    NavArea(
        "review",
        pgettext_lazy("navigation area", "Review"),
        (NavEntry(_("Review queue"), "orders:review_queue", "orders.review_salesorder"),),
    ),
    NavArea(
        "warehouse",
        pgettext_lazy("navigation area", "Warehouse"),
        (
            NavEntry(_("Products"), "inventory:product_list", "inventory.view_product"),
            NavEntry(_("Stock"), "inventory:stock_overview", "inventory.view_stocklevel"),
            NavEntry(_("Receive goods"), "inventory:receipt", "inventory.receive_stock"),
            # The page shows every waiting order's reservations: for those who allocate and those who read stock.
            NavEntry(_("Allocation"), "orders:allocation", ("orders.allocate_salesorder", "inventory.view_reservation")),
            NavEntry(_("Alerts"), "inventory:alert_list", "inventory.view_lowstockalert"),
            NavEntry(_("Stock counts"), "inventory:count_list", "inventory.view_stockcount"),
            NavEntry(_("Transfers"), "inventory:transfer_list", "inventory.view_stocktransfer"),
            NavEntry(
                _("Replenishment"),
                "inventory:replenishment_list",
                ("inventory.manage_replenishment", "inventory.view_replenishmentrequest"),
            ),
        ),
    ),
    NavArea(
        "shipping",
        pgettext_lazy("navigation area", "Shipping"),
        (
            NavEntry(_("Ready to pick"), "logistics:pick_queue", "logistics.ship_shipment"),
            NavEntry(_("Shipments"), "logistics:shipment_list", "logistics.view_shipment"),
            NavEntry(_("Delivery exceptions"), "logistics:exception_list", "logistics.view_deliveryexception"),
            NavEntry(_("Import tracking"), "logistics:tracking_import", "logistics.add_trackingevent"),
            NavEntry(_("Unmatched tracking"), "logistics:unmatched_list", "logistics.view_unmatchedtrackingevent"),
            NavEntry(_("Returns"), "logistics:return_list", "logistics.view_returnrequest"),
            # The carrier settings page comes with its logistics step.
        ),
    ),
    NavArea(
        "finance",
        pgettext_lazy("navigation area", "Finance"),
        (
            NavEntry(_("Invoices"), "billing:invoice_list", "billing.view_invoice"),
            NavEntry(_("Credit notes"), "billing:creditnote_list", "billing.view_creditnote"),
            NavEntry(_("Payments"), "billing:payment_list", "billing.view_payment"),
            NavEntry(_("Record a payment"), "billing:payment_create", "billing.add_payment"),
            NavEntry(_("Refunds"), "billing:refund_list", "billing.view_refund"),
            NavEntry(_("Bank statements"), "billing:bankstatement_list", "billing.view_bankstatement"),
            NavEntry(_("Bank lines to match"), "billing:bankline_queue", "billing.reconcile_bankstatementline"),
            NavEntry(_("Receivables"), "billing:receivables", "billing.view_receivables"),
            NavEntry(_("Customer statements"), "billing:statement_list", "billing.view_customerstatement"),
            NavEntry(_("Payment reminders"), "billing:reminder_list", "billing.view_paymentreminder"),
        ),
    ),
    NavArea(
        "reports",
        pgettext_lazy("navigation area", "Reports"),
        (
            NavEntry(_("Dashboard"), "reports:dashboard", "reports.view_reports"),
            NavEntry(_("Orders at risk"), "reports:at_risk", "reports.view_risk_queue"),
            NavEntry(_("Sales report"), "reports:sales", "reports.view_sales_report"),
            NavEntry(_("Margins"), "reports:margins", "reports.view_margin_report"),
            NavEntry(_("Cycle times"), "reports:cycle_times", "reports.view_cycle_report"),
            NavEntry(_("Review report"), "reports:review", "reports.view_review_report"),
            NavEntry(_("Stock report"), "reports:stock", "reports.view_stock_report"),
            NavEntry(_("Receivables report"), "reports:receivables", "reports.view_receivables_report"),
            NavEntry(_("Customer report"), "reports:customers", "reports.view_customer_report"),
            NavEntry(_("Nightly reports"), "reports:nightly_list", "reports.view_reports"),
        ),
    ),
    NavArea(
        "settings",
        pgettext_lazy("navigation area", "Settings"),
        (
            NavEntry(_("Review settings"), "orders:review_settings", "orders.change_reviewsettings"),
            NavEntry(_("Limits of the orders at risk"), "reports:risk_limits", "reports.change_risk_limits"),
            NavEntry(_("API clients"), "api:client_list", "api.view_apiclient"),
            NavEntry(_("Webhooks"), "webhooks:endpoint_list", "webhooks.view_webhookendpoint"),
            NavEntry(_("Dunning levels"), "billing:dunning_levels", "billing.view_dunninglevel"),
        ),
    ),
]


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:  # the page's app is not installed (yet) in this deployment
        return None


def navigation_areas_for(user, current_path: str) -> list[dict]:
    """The areas this user may open, each with its entries; the entry whose URL is the longest prefix of the page is active."""
    areas = []
    for area in NAV_AREAS:
        items = []
        for entry in area.entries:
            if entry.allows(user) and (url := _url(entry.url_name)):
                items.append({"label": entry.label, "url": url, "url_name": entry.url_name, "active": False})
        if items:
            areas.append({"key": area.key, "label": area.label, "items": items, "active": False})
    matches = [
        (item, area)
        for area in areas
        for item in area["items"]
        if current_path == item["url"] or (item["url"] != "/" and current_path.startswith(item["url"]))
    ]
    if matches:
        item, area = max(matches, key=lambda match: len(match[0]["url"]))
        item["active"] = area["active"] = True
    return areas


def navigation_for(user, current_path: str) -> list[dict]:
    """The entries this user may open, area after area, as one flat list (the active one marked)."""
    return [item for area in navigation_areas_for(user, current_path) for item in area["items"]]
