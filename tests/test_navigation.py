"""The main navigation: areas of the business, each role seeing only the areas and entries it may open."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.urls import NoReverseMatch, reverse

from config.navigation import NAV_AREAS, navigation_areas_for, navigation_for
from config.roles import FINANCE, MANAGER, REVIEWER, SALES, WAREHOUSE

pytestmark = pytest.mark.django_db

# What each role finds in its menu today (reports joins once its app exists).
EXPECTED_MENUS = {
    SALES: {
        "sales": ["orders:list", "orders:create", "customers:list", "customers:complaint_list"],
        "warehouse": ["inventory:product_list", "inventory:stock_overview"],
        "shipping": ["logistics:shipment_list", "logistics:exception_list", "logistics:return_list"],
        "finance": ["billing:payment_list", "billing:refund_list"],
        "reports": ["reports:at_risk", "reports:sales", "reports:customers"],
    },
    REVIEWER: {
        "sales": ["orders:list", "customers:list", "customers:complaint_list"],
        "review": ["orders:review_queue"],
        "warehouse": ["inventory:product_list", "inventory:stock_overview"],
        "reports": ["reports:review"],
    },
    WAREHOUSE: {
        "sales": ["orders:list", "customers:list"],
        "warehouse": [
            "inventory:product_list",
            "inventory:stock_overview",
            "inventory:receipt",
            "orders:allocation",
            "inventory:alert_list",
            "inventory:count_list",
            "inventory:transfer_list",
            "inventory:replenishment_list",
        ],
        "shipping": [
            "logistics:pick_queue",
            "logistics:shipment_list",
            "logistics:exception_list",
            "logistics:tracking_import",
            "logistics:unmatched_list",
            "logistics:return_list",
        ],
        "reports": ["reports:cycle_times", "reports:stock"],
    },
    FINANCE: {
        "sales": ["orders:list", "customers:list"],
        "warehouse": ["inventory:product_list", "inventory:stock_overview"],
        "shipping": ["logistics:return_list"],
        "finance": [
            "billing:invoice_list",
            "billing:creditnote_list",
            "billing:payment_list",
            "billing:payment_create",
            "billing:refund_list",
            "billing:bankstatement_list",
            "billing:bankline_queue",
            "billing:receivables",
            "billing:statement_list",
            "billing:reminder_list",
        ],
        "reports": ["reports:receivables"],
        "settings": ["billing:dunning_levels"],
    },
    # Managers read everything: allocation and replenishment included.
    MANAGER: {
        "sales": ["orders:list", "customers:list", "customers:complaint_list"],
        "review": ["orders:review_queue"],
        "warehouse": [
            "inventory:product_list",
            "inventory:stock_overview",
            "orders:allocation",
            "inventory:alert_list",
            "inventory:count_list",
            "inventory:transfer_list",
            "inventory:replenishment_list",
        ],
        "shipping": ["logistics:shipment_list", "logistics:exception_list", "logistics:unmatched_list", "logistics:return_list"],
        "finance": [
            "billing:invoice_list",
            "billing:creditnote_list",
            "billing:payment_list",
            "billing:refund_list",
            "billing:bankstatement_list",
            "billing:receivables",
            "billing:statement_list",
            "billing:reminder_list",
        ],
        "reports": [
            "reports:dashboard",
            "reports:at_risk",
            "reports:sales",
            "reports:margins",
            "reports:cycle_times",
            "reports:review",
            "reports:stock",
            "reports:receivables",
            "reports:customers",
            "reports:nightly_list",
        ],
        "settings": [
            "orders:review_settings",
            "reports:risk_limits",
            "api:client_list",
            "webhooks:endpoint_list",
            "billing:dunning_levels",
        ],
    },
}


def _menu(user, path="/"):
    return {area["key"]: [item["url_name"] for item in area["items"]] for area in navigation_areas_for(user, path)}


@pytest.mark.parametrize("role", sorted(EXPECTED_MENUS))
def test_each_role_sees_the_entries_of_its_work(make_user, role):
    assert _menu(make_user(role)) == EXPECTED_MENUS[role]


@pytest.mark.parametrize("role", sorted(EXPECTED_MENUS))
def test_a_role_sees_no_area_it_has_no_entry_in(make_user, role):
    user = make_user(role)
    shown = navigation_areas_for(user, "/")
    assert all(area["items"] for area in shown)
    openable = {area.key for area in NAV_AREAS if any(entry.allows(user) for entry in area.entries)}
    assert {area["key"] for area in shown} <= openable
    for area in NAV_AREAS:
        if area.key not in openable:
            assert area.key not in {a["key"] for a in shown}


def test_a_user_without_a_role_sees_no_area(make_user):
    assert navigation_areas_for(make_user(), "/") == []


@pytest.mark.parametrize("role", sorted(EXPECTED_MENUS))
def test_every_entry_in_a_menu_opens_for_that_role(client_as, role):
    client = client_as(role)
    refused = [
        (item["url"], response.status_code)
        for item in navigation_for(client.user, "/")
        if (response := client.get(item["url"])).status_code != 200
    ]
    assert not refused, f"{role} is shown entries it may not open: {refused}"


def test_the_current_area_and_entry_are_marked_active(make_user):
    user = make_user(MANAGER)

    def active(path):
        areas = navigation_areas_for(user, path)
        return (
            [area["key"] for area in areas if area["active"]],
            [item["url_name"] for area in areas for item in area["items"] if item["active"]],
        )

    assert active(reverse("orders:review_queue")) == (["review"], ["orders:review_queue"])
    assert active(reverse("orders:review_settings")) == (["settings"], ["orders:review_settings"])
    assert active(reverse("orders:list") + "12/") == (["sales"], ["orders:list"])
    assert active(reverse("inventory:product_stock", args=[3])) == (["warehouse"], ["inventory:stock_overview"])
    assert active(reverse("home")) == ([], [])


def test_entries_of_installed_apps_name_pages_and_permissions_that_exist():
    """An entry whose app is installed must resolve: a renamed page would otherwise vanish from every menu."""
    problems = []
    for area in NAV_AREAS:
        for entry in area.entries:
            app_label = entry.url_name.split(":")[0]
            if not apps.is_installed(app_label):
                continue  # declared ahead of its app: appears once the app is there
            try:
                reverse(entry.url_name)
            except NoReverseMatch:
                problems.append(f"{entry.url_name}: no such page")
            for perm in entry.permissions():
                perm_app, codename = perm.split(".")
                if (
                    apps.is_installed(perm_app)
                    and not Permission.objects.filter(content_type__app_label=perm_app, codename=codename).exists()
                ):
                    problems.append(f"{entry.url_name}: no permission {perm}")
    assert not problems, problems


def test_the_header_renders_area_menus_with_the_current_entry_marked(client_as):
    body = client_as(WAREHOUSE).get(reverse("inventory:count_list")).content.decode()
    nav = body[body.index('<nav id="mainnav"') : body.index("</nav>")]
    assert re.findall(r'data-area="(\w+)"', nav) == ["sales", "warehouse", "shipping", "reports"]
    warehouse = nav[nav.index('data-area="warehouse"') :]
    assert 'class="nav-area-label active"' in warehouse
    assert re.findall(r'<a href="([^"]+)" class="active" aria-current="page">', nav) == [reverse("inventory:count_list")]
    assert "<script>" not in body and " style=" not in body  # the CSP allows neither


def test_signed_out_pages_have_no_navigation(client):
    body = client.get(reverse("login")).content.decode()
    assert 'id="mainnav"' not in body
