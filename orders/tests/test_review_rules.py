"""The automatic checks: each rule firing and not firing, at its boundary, and what it records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from config.roles import REVIEWER, SALES
from orders.entry.services import order_reopen
from orders.models import OrderEvent, OrderStatus, ReviewFinding, ReviewRule, ReviewSettings
from orders.review import rules as review
from orders.review.services import order_reject, order_run_checks
from orders.tasks import review_order

from .review_factories import (
    AddressFactory,
    ContactFactory,
    CustomerFactory,
    ProductFactory,
    make_order,
    put_in_stock,
    reload,
    submit_and_check,
)

pytestmark = pytest.mark.django_db

FLAG = ReviewFinding.Severity.FLAG
WARNING = ReviewFinding.Severity.WARNING


@pytest.fixture
def sales(make_user):
    return make_user(SALES)


@pytest.fixture
def rules():
    settings_row = ReviewSettings.current()
    settings_row.amount_threshold = Decimal("100000.00")
    settings_row.sales_max_discount_percent = Decimal("10.00")
    settings_row.save()
    return settings_row


def findings_of(order, rule=None):
    findings = ReviewFinding.objects.filter(order=order)
    return list(findings.filter(rule=rule) if rule else findings)


def priced(price: str, discount: str = "0", *, product=None, quantity: int = 1):
    return (product or ProductFactory(), quantity, Decimal(price), Decimal(discount))


# --- no findings: approved without a reviewer -----------------------------------------------------


def test_clean_order_is_approved_by_the_checks_without_a_reviewer(sales, rules):
    order = submit_and_check(make_order(by=sales), by=sales)
    assert order.status == OrderStatus.APPROVED
    assert order.approved_at is not None
    assert findings_of(order) == []
    event = order.events.filter(kind=OrderEvent.Kind.TRANSITION).last()
    assert (event.from_state, event.to_state, event.by) == (OrderStatus.SUBMITTED, OrderStatus.APPROVED, None)
    assert (event.actor_kind, event.actor_name) == ("system", "automatic_checks")


def handed_to_stock(order) -> bool:
    """Allocation follows approval through the outbox: the event that triggers it was recorded."""
    from config.outbox import OutboxEvent

    topics = ["orders.salesorder.pass_checks", "orders.salesorder.approve"]
    return OutboxEvent.objects.filter(topic__in=topics, payload__id=order.pk).exists()


def test_automatic_approval_hands_the_order_to_stock(sales, rules):
    order = submit_and_check(make_order(by=sales), by=sales)
    assert handed_to_stock(order)


def test_flagged_order_is_not_handed_to_stock(sales, rules):
    order = submit_and_check(make_order(by=sales, address=False), by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    assert order.approved_at is None
    assert not handed_to_stock(order)


# --- completeness ---------------------------------------------------------------------------------


def test_order_without_shipping_address_goes_to_review_as_incomplete(sales, rules):
    order = submit_and_check(make_order(by=sales, address=False), by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    [finding] = findings_of(order, ReviewRule.COMPLETENESS)
    assert finding.severity == FLAG
    assert finding.figures == {"missing": ["shipping_address"]}
    assert "shipping address" in finding.message


def test_shipping_address_of_another_customer_counts_as_missing(sales, rules):
    order = make_order(by=sales)
    other_address = AddressFactory()
    type(order).objects.filter(pk=order.pk).update(shipping_address=other_address)
    order = submit_and_check(order, by=sales)
    [finding] = findings_of(order, ReviewRule.COMPLETENESS)
    assert finding.figures["missing"] == ["shipping_address"]


def test_customer_nobody_can_reach_is_incomplete(sales, rules):
    customer = CustomerFactory(phone="", email="")
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    [finding] = findings_of(order, ReviewRule.COMPLETENESS)
    assert finding.figures["missing"] == ["contact"]


def test_a_contact_with_a_phone_makes_the_customer_reachable(sales, rules):
    customer = CustomerFactory(phone="", email="")
    order = make_order(by=sales, customer=customer)
    contact = ContactFactory(customer=customer, email="", phone="139-1111-2222")
    type(order).objects.filter(pk=order.pk).update(contact=contact)
    order = submit_and_check(order, by=sales)
    assert findings_of(order, ReviewRule.COMPLETENESS) == []
    assert order.status == OrderStatus.APPROVED


def test_customer_email_alone_is_enough_to_reach_them(sales, rules):
    customer = CustomerFactory(phone="", email="buyer@customer.example")
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    assert findings_of(order, ReviewRule.COMPLETENESS) == []


def test_order_without_lines_is_incomplete(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[]), by=sales)
    [finding] = findings_of(order, ReviewRule.COMPLETENESS)
    assert finding.figures["missing"] == ["lines"]
    assert order.status == OrderStatus.IN_REVIEW


def test_everything_missing_is_named_in_one_finding(sales, rules):
    customer = CustomerFactory(phone="", email="")
    order = submit_and_check(make_order(by=sales, customer=customer, lines=[], address=False), by=sales)
    [finding] = findings_of(order, ReviewRule.COMPLETENESS)
    assert finding.figures["missing"] == ["shipping_address", "contact", "lines"]


# --- price below list -----------------------------------------------------------------------------


def test_discount_exactly_at_what_sales_may_give_is_not_flagged(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[priced("100.00", "10.00")]), by=sales)
    assert findings_of(order, ReviewRule.PRICE) == []
    assert order.status == OrderStatus.APPROVED


def test_unit_price_exactly_at_the_allowed_floor_is_not_flagged(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[priced("90.00")]), by=sales)
    assert findings_of(order, ReviewRule.PRICE) == []


def test_unit_price_one_cent_below_the_allowed_discount_is_flagged(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[priced("89.99")]), by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    [finding] = findings_of(order, ReviewRule.PRICE)
    assert finding.severity == FLAG
    assert finding.figures["line"] == 1
    assert finding.figures["list_price"] == "100.00"
    assert finding.figures["net_unit_price"] == "89.99"
    assert finding.figures["below_list_percent"] == "10.01"
    assert finding.figures["allowed_discount_percent"] == "10.00"
    assert "89.99" in finding.message and "100.00" in finding.message


def test_discount_beyond_what_sales_may_give_is_flagged(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[priced("100.00", "10.01")]), by=sales)
    [finding] = findings_of(order, ReviewRule.PRICE)
    assert finding.figures["discount_percent"] == "10.01"
    assert finding.figures["net_unit_price"] == "89.99"


def test_only_the_line_below_the_floor_is_flagged(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[priced("100.00"), priced("50.00")]), by=sales)
    [finding] = findings_of(order, ReviewRule.PRICE)
    assert finding.figures["line"] == 2


def test_product_minimum_price_is_a_floor_even_within_the_sales_discount(sales, rules):
    product = ProductFactory(min_price=Decimal("95.00"))
    order = submit_and_check(make_order(by=sales, lines=[priced("94.99", product=product)]), by=sales)
    [finding] = findings_of(order, ReviewRule.PRICE)
    assert finding.figures["lowest_allowed_price"] == "95.00"
    assert "95.00" in finding.message


def test_price_at_the_product_minimum_is_not_flagged(sales, rules):
    product = ProductFactory(min_price=Decimal("95.00"))
    order = submit_and_check(make_order(by=sales, lines=[priced("95.00", product=product)]), by=sales)
    assert findings_of(order, ReviewRule.PRICE) == []


def test_product_maximum_discount_is_a_floor_too(sales, rules):
    product = ProductFactory(max_discount_percent=Decimal("5.00"))
    at_floor = submit_and_check(make_order(by=sales, lines=[priced("100.00", "5.00", product=product)]), by=sales)
    below = submit_and_check(make_order(by=sales, lines=[priced("94.99", product=product)]), by=sales)
    assert findings_of(at_floor, ReviewRule.PRICE) == []
    [finding] = findings_of(below, ReviewRule.PRICE)
    assert finding.figures["lowest_allowed_price"] == "95.00"


def test_price_rule_follows_the_discount_setting(sales, rules):
    rules.sales_max_discount_percent = Decimal("20.00")
    rules.save()
    order = submit_and_check(make_order(by=sales, lines=[priced("80.00")]), by=sales)
    assert findings_of(order, ReviewRule.PRICE) == []


# --- amount over threshold -------------------------------------------------------------------------


def untaxed(price: str):
    """A line of a product without tax, sold at its list price: the total is the price."""
    return priced(price, product=ProductFactory(tax_rate=Decimal("0"), list_price=Decimal(price)))


def test_total_exactly_at_the_threshold_is_not_flagged(sales, rules):
    rules.amount_threshold = Decimal("1000.00")
    rules.save()
    order = submit_and_check(make_order(by=sales, lines=[untaxed("1000.00")]), by=sales)
    assert order.total == Decimal("1000.00")
    assert findings_of(order, ReviewRule.AMOUNT) == []
    assert order.status == OrderStatus.APPROVED


def test_total_one_cent_over_the_threshold_is_flagged(sales, rules):
    rules.amount_threshold = Decimal("1000.00")
    rules.save()
    order = submit_and_check(make_order(by=sales, lines=[untaxed("1000.01")]), by=sales)
    [finding] = findings_of(order, ReviewRule.AMOUNT)
    assert finding.figures == {"total": "1000.01", "threshold": "1000.00", "currency": order.currency}
    assert order.status == OrderStatus.IN_REVIEW


# --- blocked customer -----------------------------------------------------------------------------


def test_order_of_a_blocked_customer_is_flagged_with_the_reason(sales, rules):
    customer = CustomerFactory(is_blocked=True, blocked_reason="Bounced cheque in March")
    order = submit_and_check(make_order(by=sales, customer=customer), by=sales)
    [finding] = findings_of(order, ReviewRule.BLOCKED)
    assert "Bounced cheque in March" in finding.message
    assert finding.figures["reason"] == "Bounced cheque in March"


def test_order_of_an_unblocked_customer_is_not_flagged_as_blocked(sales, rules):
    order = submit_and_check(make_order(by=sales), by=sales)
    assert findings_of(order, ReviewRule.BLOCKED) == []


# --- credit exposure ------------------------------------------------------------------------------


def test_credit_exposure_exactly_at_the_limit_is_not_flagged(sales, rules):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    earlier = submit_and_check(make_order(by=sales, customer=customer, lines=[untaxed("600.00")]), by=sales)
    assert earlier.status == OrderStatus.APPROVED
    order = submit_and_check(make_order(by=sales, customer=customer, lines=[untaxed("400.00")]), by=sales)
    assert findings_of(order, ReviewRule.CREDIT) == []
    assert order.status == OrderStatus.APPROVED


def test_credit_exposure_one_cent_over_the_limit_is_flagged(sales, rules):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    submit_and_check(make_order(by=sales, customer=customer, lines=[untaxed("600.00")]), by=sales)
    order = submit_and_check(make_order(by=sales, customer=customer, lines=[untaxed("400.01")]), by=sales)
    [finding] = findings_of(order, ReviewRule.CREDIT)
    assert finding.figures == {
        "exposure": "1000.01",
        "order_total": "400.01",
        "credit_limit": "1000.00",
        "over_limit": "0.01",
    }
    assert "1000.01" in finding.message
    assert order.status == OrderStatus.IN_REVIEW


def test_orders_not_yet_approved_do_not_count_towards_exposure(sales, rules):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    make_order(by=sales, customer=customer, lines=[untaxed("900.00")])  # a draft
    order = submit_and_check(make_order(by=sales, customer=customer, lines=[untaxed("1000.00")]), by=sales)
    assert findings_of(order, ReviewRule.CREDIT) == []


def test_customer_without_credit_is_flagged_for_any_order(sales, rules):
    order = submit_and_check(make_order(by=sales, customer=CustomerFactory(credit_limit=Decimal("0.00"))), by=sales)
    [finding] = findings_of(order, ReviewRule.CREDIT)
    assert finding.figures["credit_limit"] == "0.00"


# --- overdue invoices -----------------------------------------------------------------------------


def test_overdue_rule_finds_nothing_while_billing_does_not_exist(sales, rules):
    order = make_order(by=sales)
    assert review.overdue_invoices(customer=order.customer, older_than_days=0) == []
    order = submit_and_check(order, by=sales)
    assert findings_of(order, ReviewRule.OVERDUE) == []


def test_overdue_invoices_past_the_configured_days_flag_the_order(sales, rules, monkeypatch):
    asked = []

    class Invoice:
        def __init__(self, number, balance):
            self.number, self.balance = number, Decimal(balance)

    def overdue(*, customer, older_than_days):
        asked.append(older_than_days)
        return [Invoice("INV-2026-000007", "1200.50"), Invoice("INV-2026-000009", "99.50")]

    monkeypatch.setattr(review, "overdue_invoices", overdue)
    rules.overdue_days = 45
    rules.save()
    order = submit_and_check(make_order(by=sales), by=sales)
    assert asked == [45]
    [finding] = findings_of(order, ReviewRule.OVERDUE)
    assert finding.figures == {"days": 45, "invoices": ["INV-2026-000007", "INV-2026-000009"], "balance": "1300.00"}
    assert "INV-2026-000007" in finding.message
    assert order.status == OrderStatus.IN_REVIEW


# --- stock shortfall (warning only) ---------------------------------------------------------------


def test_stock_shortfall_is_a_warning_and_does_not_stop_approval(sales, rules):
    product = ProductFactory()
    order = submit_and_check(make_order(by=sales, lines=[priced("100.00", product=product, quantity=5)], stocked=False), by=sales)
    [finding] = findings_of(order, ReviewRule.STOCK)
    assert finding.severity == WARNING
    assert finding.figures == {
        "sku": product.sku,
        "product": f"{product.sku} {product.name}",
        "ordered": 5,
        "available": 0,
        "shortfall": 5,
    }
    assert order.status == OrderStatus.APPROVED


def test_quantities_of_one_product_on_several_lines_are_added_up(sales, rules):
    product = ProductFactory()
    put_in_stock(product, 7)
    order = make_order(
        by=sales,
        lines=[priced("100.00", product=product, quantity=4), priced("100.00", product=product, quantity=4)],
        stocked=False,
    )
    order = submit_and_check(order, by=sales)
    [finding] = findings_of(order, ReviewRule.STOCK)
    assert finding.figures["ordered"] == 8 and finding.figures["available"] == 7 and finding.figures["shortfall"] == 1


def test_enough_stock_leaves_no_warning(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[priced("100.00", quantity=3)]), by=sales)
    assert findings_of(order, ReviewRule.STOCK) == []


def test_warning_beside_a_flag_is_recorded_too(sales, rules):
    order = submit_and_check(make_order(by=sales, lines=[priced("50.00", quantity=2)], stocked=False), by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    assert {(f.rule, f.severity) for f in findings_of(order)} == {(ReviewRule.PRICE, FLAG), (ReviewRule.STOCK, WARNING)}


# --- settings switch rules off ---------------------------------------------------------------------


def test_a_switched_off_check_does_not_fire(sales, rules):
    rules.check_price = False
    rules.check_stock = False
    rules.save()
    order = submit_and_check(make_order(by=sales, lines=[priced("10.00")], stocked=False), by=sales)
    assert findings_of(order) == []
    assert order.status == OrderStatus.APPROVED


# --- the task: once per submission, safe to repeat --------------------------------------------------


def test_review_task_is_safe_to_run_twice(sales, rules):
    order = submit_and_check(make_order(by=sales, address=False), by=sales)
    events = order.events.count()
    review_order.delay(order.pk)
    review_order(order.pk)
    order = reload(order)
    assert order.status == OrderStatus.IN_REVIEW
    assert len(findings_of(order)) == 1
    assert order.events.count() == events


def test_review_task_leaves_a_draft_alone(sales, rules):
    order = make_order(by=sales)
    review_order.delay(order.pk)
    assert reload(order).status == OrderStatus.DRAFT
    assert findings_of(order) == []


def test_review_task_for_a_deleted_order_does_nothing(rules):
    assert order_run_checks(order_id=987654) is None


def test_findings_of_a_resubmission_carry_its_number(sales, rules, make_user):
    order = submit_and_check(make_order(by=sales, address=False), by=sales)
    order_reject(order=order, by=make_user(REVIEWER), reason="Ask the customer for the address")
    order_reopen(order=order, by=sales)
    order = submit_and_check(order, by=sales)
    assert order.status == OrderStatus.IN_REVIEW
    assert sorted(f.submission for f in findings_of(order)) == [1, 2]
    assert [f.submission for f in review.current_findings().filter(order=order)] == [2]


# --- submission queues the checks -----------------------------------------------------------------


def test_submitting_an_order_runs_the_checks_only_after_commit(sales, rules, django_capture_on_commit_callbacks):
    from orders.entry.services import order_submit

    order = make_order(by=sales, lines=[priced("50.00")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_submit(order=order, by=sales)
    assert reload(order).status == OrderStatus.SUBMITTED  # nothing reviewed inside the submitting transaction
    assert findings_of(order) == []
    for callback in callbacks:
        callback()
    order = reload(order)
    assert order.status == OrderStatus.IN_REVIEW
    assert [f.rule for f in findings_of(order)] == [ReviewRule.PRICE]


def test_findings_read_in_the_language_of_whoever_looks(make_user):
    """The checks ran in English; a reviewer reading in Chinese sees the finding in Chinese."""
    from django.utils import translation

    clerk = make_user("sales")
    customer = CustomerFactory(credit_limit=Decimal("10.00"))
    order = make_order(by=clerk, customer=customer)
    with translation.override("en"):
        submit_and_check(order, by=clerk)
    finding = ReviewFinding.objects.get(order=order, rule=ReviewRule.CREDIT)
    assert finding.message.startswith("Credit exposure with this order is")
    with translation.override("zh-hans"):
        assert finding.text != finding.message
        assert "信用" in finding.text
        assert finding.figures["credit_limit"] in finding.text
    with translation.override("en"):
        assert finding.text == finding.message
