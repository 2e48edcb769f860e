"""Customers in the browser: search as you type, create with a mistake corrected, add an address,
block with a reason (confirmed), work a complaint to resolved, import a CSV through its dry run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from config.roles import MANAGER
from customers.models import Complaint, Customer
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_creates_blocks_and_works_a_complaint(page, login, make_user):
    make_user(MANAGER, username="zhao.min")
    CustomerFactory(name="上海华东贸易有限公司", alt_name="Shanghai Huadong Trading")
    CustomerFactory(name="北京燕山五金", alt_name="Beijing Yanshan Hardware")
    login("zhao.min", "pw")

    # Search as you type: the results swap in place (htmx) and the URL keeps the query.
    page.click('nav#mainnav [data-area="sales"] summary')
    page.click("nav#mainnav >> text=Customers")
    page.fill("input[name=q]", "huadong")
    expect(page.locator("#results")).not_to_contain_text("北京燕山五金")
    expect(page.locator("#results")).to_contain_text("上海华东贸易有限公司")
    expect(page).to_have_url(re.compile(r"q=huadong"))

    # Create: a negative credit limit is refused on the form, then corrected.
    page.click("text=New customer")
    page.fill("#id_name", "杭州西湖茶业有限公司")
    page.fill("#id_alt_name", "Hangzhou West Lake Tea")
    page.fill("#id_credit_limit", "-12000")
    page.click("button:has-text('Create customer')")
    expect(page.locator(".field.has-error")).to_contain_text("greater than or equal to 0")
    page.fill("#id_credit_limit", "12000")
    page.click("button:has-text('Create customer')")
    expect(page.locator("h1")).to_contain_text("杭州西湖茶业有限公司")
    customer = Customer.objects.get(name="杭州西湖茶业有限公司")
    expect(page.locator("h1")).to_contain_text(customer.code)

    # Add a shipping address from the edit page: the first one becomes the default.
    page.click(".page-actions >> text=Edit")
    page.click("text=Add address")
    page.fill("#id_recipient", "赵敏")
    page.fill("#id_line1", "西湖区龙井路 1 号")
    page.fill("#id_city", "杭州")
    page.click("button:has-text('Save address')")
    expect(page.locator("#addresses")).to_contain_text("龙井路 1 号")
    expect(page.locator("#addresses .status-default")).to_have_count(1)

    # Block with a reason; the browser asks for confirmation first.
    page.goto(customer.get_absolute_url())
    page.click(".page-actions >> text=Block")
    page.fill("#id_reason", "预付款未到账")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.danger:has-text('Block')")
    expect(page.locator(".finding.block")).to_contain_text("预付款未到账")
    customer.refresh_from_db()
    assert customer.is_blocked

    # A complaint: open it, start work, resolve it with a written resolution.
    page.click("text=New complaint")
    page.fill("#id_subject", "茶叶受潮")
    page.fill("#id_description", "两盒龙井受潮结块。")
    page.click("button:has-text('Open complaint')")
    expect(page.locator("h1")).to_contain_text("茶叶受潮")
    page.click("button:has-text('Start work')")
    expect(page.locator("h1 .status")).to_have_text("In progress")
    page.fill("#id_resolution", "补发两盒并致歉。")
    page.click("button:has-text('Resolve')")
    expect(page.locator("h1 .status")).to_have_text("Resolved")
    complaint = Complaint.objects.get()
    assert complaint.state == Complaint.State.RESOLVED and complaint.resolution == "补发两盒并致歉。"
    expect(page.locator(".timeline")).to_contain_text("In progress → Resolved")


def test_import_shows_the_dry_run_then_commits(page, login, make_user, tmp_path):
    make_user(MANAGER, username="zhao.min")
    login("zhao.min", "pw")
    bad = tmp_path / "customers.csv"
    bad.write_bytes("名称,信用额度\n宁波港口贸易,很多\n".encode("gb18030"))
    page.goto("/customers/import/")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Check the file')")
    expect(page.locator("#dry-run")).to_contain_text("Enter a number")
    expect(page.locator("button[name=commit]")).to_have_count(0)

    good = tmp_path / "customers-fixed.csv"
    good.write_bytes("名称,信用额度\n宁波港口贸易,80000\nGreen Leaf Cafe,15000\n".encode("gb18030"))
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('Check the file')")
    expect(page.locator("#dry-run")).to_contain_text("2 to create")
    assert not Customer.objects.exists()
    page.click("button[name=commit]")
    expect(page.locator(".messages")).to_contain_text("2 created")
    assert set(Customer.objects.values_list("name", flat=True)) == {"宁波港口贸易", "Green Leaf Cafe"}
