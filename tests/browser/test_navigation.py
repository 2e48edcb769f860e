"""The main navigation keeps one row on a 1024 px tablet and a 1366 px laptop, and folds into a menu button on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from config import navigation
from config.demo import seed_users

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def every_area_declared(monkeypatch):
    """The worst case: every declared entry, of the apps still to come too, has a page (about 40 entries)."""
    real_url = navigation._url
    monkeypatch.setattr(navigation, "_url", lambda name: real_url(name) or f"/future/{name.replace(':', '/')}/")


def _open_as(page, login, username, password, width, language="en"):
    page.set_viewport_size({"width": width, "height": 800})
    login(username, password)
    if language != "en":
        with page.expect_navigation():
            page.select_option("#lang-select", language)
    page.goto("/inventory/stock/")


def _rows(page, selector):
    """The distinct top edges of the visible elements matching selector (one value: one row)."""
    tops = page.locator(selector).evaluate_all(
        "els => els.filter(e => e.offsetParent !== null).map(e => Math.round(e.getBoundingClientRect().top))"
    )
    return tops, sorted(set(tops))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("width", [1024, 1366])
def test_every_area_fits_one_row_of_the_header(page, login, every_area_declared, width, language, tmp_path):
    seed_users()  # "admin" is a superuser: every area, every entry
    _open_as(page, login, "admin", "admin-demo", width, language)
    page.screenshot(path=str(tmp_path / f"nav-{width}-{language}.png"))
    labels = page.locator("#mainnav .nav-area-label")
    expect(labels).to_have_count(len(navigation.NAV_AREAS))
    tops, rows = _rows(page, "#mainnav .nav-area-label, .topbar-right > *, .brand")
    assert len(rows) == 1 or max(rows) - min(rows) < 16, f"the header wraps at {width} px: tops {tops}"
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 70, f"the header is {header['height']} px high at {width} px"
    # Nothing pushed off the right edge either.
    right = page.locator(".topbar-right").bounding_box()
    assert right["x"] + right["width"] <= width + 1

    # An area opens as a menu below the bar and lists its entries; opening another closes the first.
    page.locator("#mainnav .nav-area-label.active").click()
    warehouse = page.locator('#mainnav [data-area="warehouse"]')
    expect(warehouse.locator(".nav-menu")).to_be_visible()
    expect(warehouse.locator("a.active")).to_have_attribute("aria-current", "page")
    label = warehouse.locator(".nav-area-label").bounding_box()
    assert warehouse.locator(".nav-menu").bounding_box()["y"] >= label["y"] + label["height"]
    page.screenshot(path=str(tmp_path / f"nav-{width}-{language}-open.png"))
    page.locator('#mainnav [data-area="sales"] .nav-area-label').click()
    expect(warehouse.locator(".nav-menu")).to_be_hidden()
    expect(page.locator('#mainnav [data-area="sales"] .nav-menu')).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator('#mainnav [data-area="sales"] .nav-menu')).to_be_hidden()


def test_warehouse_clerk_reaches_counts_through_the_warehouse_menu(page, login):
    seed_users()
    _open_as(page, login, "warehouse", "warehouse-demo", 1024)
    expect(page.locator("#mainnav .nav-area-label")).to_have_text(["Sales", "Warehouse", "Shipping", "Reports"])
    expect(page.locator('#mainnav [data-area="warehouse"] .nav-area-label')).to_have_class("nav-area-label active")
    page.click('#mainnav [data-area="warehouse"] .nav-area-label')
    page.click("#mainnav >> text=Stock counts")
    page.wait_for_url("**/inventory/counts/")
    expect(page.locator('#mainnav a[aria-current="page"]')).to_have_text("Stock counts")


def test_on_a_phone_the_areas_fold_into_the_menu_button(page, login):
    seed_users()
    _open_as(page, login, "manager", "manager-demo", 390)
    nav = page.locator("#mainnav")
    expect(nav).to_be_hidden()
    page.click("[data-toggle-nav]")
    expect(nav).to_be_visible()
    expect(page.locator("[data-toggle-nav]")).to_have_attribute("aria-expanded", "true")
    # The menu opens on the page's own area, its entries listed under it.
    expect(page.locator('#mainnav [data-area="warehouse"] a[aria-current="page"]')).to_be_visible()
    page.click('#mainnav [data-area="sales"] .nav-area-label')
    page.click("#mainnav >> text=Customers")
    page.wait_for_url("**/customers/")
