"""The main navigation: one entry per page a role works in, shown only with its permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    permission: str | None  # None: every signed-in user


NAV_ENTRIES: list[NavEntry] = [
    NavEntry(_("Home"), "home", None),
    NavEntry(_("Orders"), "orders:list", "orders.view_salesorder"),
    NavEntry(_("New order"), "orders:create", "orders.add_salesorder"),
    NavEntry(_("Review queue"), "orders:review_queue", "orders.review_salesorder"),
    NavEntry(_("Customers"), "customers:list", "customers.view_customer"),
    NavEntry(_("Complaints"), "customers:complaint_list", "customers.view_complaint"),
    NavEntry(_("Products"), "inventory:product_list", "inventory.view_product"),
    NavEntry(_("Stock"), "inventory:stock_overview", "inventory.view_stocklevel"),
    NavEntry(_("Allocation"), "inventory:allocation", "orders.allocate_salesorder"),
    NavEntry(_("Alerts"), "inventory:alert_list", "inventory.view_lowstockalert"),
    NavEntry(_("Counts"), "inventory:count_list", "inventory.view_stockcount"),
    NavEntry(_("Transfers"), "inventory:transfer_list", "inventory.view_stocktransfer"),
    NavEntry(_("Replenishment"), "inventory:replenishment_list", "inventory.manage_replenishment"),
    NavEntry(_("Review settings"), "orders:review_settings", "orders.change_reviewsettings"),
]


def navigation_for(user, current_path: str) -> list[dict]:
    """The entries this user may open; the one whose URL is the longest prefix of the page is active."""
    items = []
    for entry in NAV_ENTRIES:
        if entry.permission and not user.has_perm(entry.permission):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:  # the page's app is not installed in this deployment
            continue
        items.append({"label": entry.label, "url": url, "active": False})
    matches = [
        item for item in items if current_path == item["url"] or (item["url"] != "/" and current_path.startswith(item["url"]))
    ]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return items
