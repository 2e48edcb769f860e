"""Each role logs in through the real login form and lands on its own home page."""

from __future__ import annotations

import pytest

from config.demo import DEMO_USERS, seed_users

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_demo_user_logs_in_and_sees_its_home(page, login):
    seed_users()
    for username, password, _first, _last, roles in DEMO_USERS:
        login(username, password)
        queue_roles = page.locator("section.queue").evaluate_all("els => els.map(e => e.dataset.role)")
        assert queue_roles, f"{username} sees no work queue"
        assert set(queue_roles) <= {*roles, "reviewer"}
        assert page.locator("h1").inner_text().startswith("Welcome")
        page.click("text=Log out")
        page.wait_for_url("**/accounts/login/")


def test_language_switch_shows_chinese(page, login):
    seed_users()
    login("sales", "sales-demo")
    page.select_option("#lang-select", "zh-hans")
    page.wait_for_load_state("load")
    page.wait_for_selector("text=我的草稿")
    assert "订单" in page.locator("nav#mainnav").text_content()  # the entries of the (closed) area menus
