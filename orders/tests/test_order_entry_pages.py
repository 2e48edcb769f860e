"""Entering and editing orders through the pages: who may, scanning, live totals, saving, stale edits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Address, Customer
from orders.models import OrderEvent, OrderStatus, SalesOrder, SalesOrderLine
from orders.tests.entry_data import entry_post
from orders.tests.factories import (
    ContactFactory,
    CustomerFactory,
    ProductFactory,
    customer_with_address,
    draft_order,
    ean13,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

CREATE = reverse("orders:create")
LINES = reverse("orders:entry_lines")


def lines_post(rows, **extra):
    from orders.entry.forms import line_data

    return {**line_data(rows), **extra}


def row(product, quantity="1", unit_price=None, discount="0"):
    return {
        "product": str(product.pk),
        "quantity": str(quantity),
        "unit_price": str(product.list_price if unit_price is None else unit_price),
        "discount_percent": str(discount),
    }


# --- who may enter orders ------------------------------------------------------------------------


def test_sales_opens_the_entry_page(client_as):
    response = client_as("sales").get(CREATE)
    assert response.status_code == 200
    assert "Scan a barcode" in response.content.decode()


@pytest.mark.parametrize("role", ["reviewer", "warehouse", "finance", "manager"])
def test_other_roles_cannot_enter_orders(client_as, role):
    client = client_as(role)
    customer, address = customer_with_address()
    product = ProductFactory()
    assert client.get(CREATE).status_code == 403
    data = entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")])
    assert client.post(CREATE, data).status_code == 403
    assert client.post(LINES, lines_post([], op="recalc")).status_code == 403
    assert client.get(reverse("orders:entry_customer_search"), {"q": "x"}).status_code == 403
    assert client.get(reverse("orders:entry_product_search"), {"q": "x"}).status_code == 403
    assert SalesOrder.objects.count() == 0


@pytest.mark.parametrize("role", ["reviewer", "warehouse", "finance"])
def test_other_roles_cannot_edit_submit_or_reopen(client_as, make_user, role):
    order = draft_order(by=make_user("sales"))
    client = client_as(role)
    assert client.get(reverse("orders:edit", args=[order.pk])).status_code == 403
    assert client.post(reverse("orders:submit", args=[order.pk])).status_code == 403
    assert client.post(reverse("orders:reopen", args=[order.pk])).status_code == 403
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT


# --- entering an order ---------------------------------------------------------------------------


def test_clerk_saves_a_draft_with_lines_and_sees_it(client_as):
    client = client_as("sales")
    customer, address = customer_with_address()
    contact = ContactFactory(customer=customer)
    widget = ProductFactory(list_price=Decimal("12.50"), tax_rate=Decimal("0.1300"))
    gadget = ProductFactory(list_price=Decimal("99.90"), tax_rate=Decimal("0.0900"))
    data = entry_post(
        customer=customer,
        address=address,
        lines=[(widget, 4, "12.50", "0"), (gadget, 3, "", "5")],
        contact=contact.pk,
        channel="web_shop",
        customer_po="PO-2026-17",
        requested_date="2099-01-31",
        notes="Back door",
    )
    response = client.post(CREATE, data)
    order = SalesOrder.objects.get()
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert (order.status, order.customer, order.shipping_address, order.contact) == (
        OrderStatus.DRAFT,
        customer,
        address,
        contact,
    )
    assert (order.channel, order.customer_po, str(order.requested_date), order.notes) == (
        "web_shop",
        "PO-2026-17",
        "2099-01-31",
        "Back door",
    )
    lines = list(order.lines.order_by("position"))
    assert [(ln.product, ln.quantity, ln.unit_price, ln.discount_percent) for ln in lines] == [
        (widget, 4, Decimal("12.50"), Decimal("0")),
        (gadget, 3, Decimal("99.90"), Decimal("5")),  # empty price = list price
    ]
    # 50.00 + 13 % = 56.50; 3 × 99.90 × 95 % = 284.715 -> 284.72, + 9 % = 25.6248 -> 25.62
    assert (order.subtotal, order.tax_total, order.total) == (Decimal("334.72"), Decimal("32.12"), Decimal("366.84"))
    assert order.events.get().kind == OrderEvent.Kind.CREATED
    assert f"Draft {order.number} was saved." in client.get(order.get_absolute_url()).content.decode()


def test_clerk_saves_and_submits_in_one_go(client_as):
    client = client_as("sales")
    customer, address = customer_with_address()
    product = ProductFactory()
    data = entry_post(customer=customer, address=address, lines=[(product, 2, "100.00", "0")], action="submit")
    response = client.post(CREATE, data)
    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert order.status == OrderStatus.SUBMITTED
    assert list(order.events.values_list("kind", "to_state")) == [("created", ""), ("transition", "submitted")]


def test_a_new_customer_and_address_are_created_with_the_order(client_as):
    client = client_as("sales")
    product = ProductFactory()
    data = entry_post(
        lines=[(product, 1, "100.00", "0")],
        new_customer_name="北京新客户有限公司",
        new_customer_phone="010-5555",
        new_address_recipient="王五",
        new_address_line1="长安街 1 号",
        new_address_city="北京",
        action="submit",
    )
    response = client.post(CREATE, data)
    assert response.status_code == 302
    customer = Customer.objects.get(name="北京新客户有限公司")
    address = Address.objects.get(customer=customer)
    assert customer.code and customer.phone == "010-5555"
    assert (address.kind, address.recipient, address.city, address.is_default) == ("shipping", "王五", "北京", True)
    order = SalesOrder.objects.get()
    assert (order.customer, order.shipping_address, order.status) == (customer, address, OrderStatus.SUBMITTED)


def test_a_new_address_is_added_to_an_existing_customer(client_as):
    client = client_as("sales")
    customer, old_address = customer_with_address()
    product = ProductFactory()
    data = entry_post(
        customer=customer,
        lines=[(product, 1, "100.00", "0")],
        new_address_recipient="赵六",
        new_address_line1="新港路 8 号",
        new_address_city="天津",
    )
    assert client.post(CREATE, data).status_code == 302
    new_address = Address.objects.exclude(pk=old_address.pk).get()
    assert SalesOrder.objects.get().shipping_address == new_address
    assert new_address.customer == customer and not new_address.is_default  # the old default stays


def test_reusing_a_customer_po_number_warns_but_saves(client_as, make_user):
    client = client_as("sales")
    customer, address = customer_with_address()
    earlier = draft_order(by=make_user("sales"), customer=customer, address=address, customer_po="PO-42")
    product = ProductFactory()
    response = client.post(
        CREATE,
        entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")], customer_po="PO-42"),
        follow=True,
    )
    assert SalesOrder.objects.count() == 2
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and earlier.number in warnings[0] and "PO-42" in warnings[0]


def test_the_same_po_number_at_another_customer_is_no_duplicate(client_as, make_user):
    client = client_as("sales")
    draft_order(by=make_user("sales"), customer_po="PO-42")
    customer, address = customer_with_address()
    product = ProductFactory()
    response = client.post(
        CREATE,
        entry_post(customer=customer, address=address, lines=[(product, 1, "100.00", "0")], customer_po="PO-42"),
        follow=True,
    )
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]


# --- the live endpoints: scanning, adding, removing, recomputing --------------------------------


def test_scanning_a_barcode_adds_the_product_and_scanning_again_increments_it(client_as):
    client = client_as("sales")
    product = ProductFactory(barcode=ean13("690123456789"), list_price=Decimal("10.00"))
    first = client.post(LINES, lines_post([], op="scan", scan_code=product.barcode))
    rows = first.context["rows"]
    assert [(r.product, r.form["quantity"].value()) for r in rows] == [(product, "1")]
    second = client.post(LINES, lines_post([row(product)], op="scan", scan_code=f" {product.barcode} "))
    assert [(r.product, r.form["quantity"].value()) for r in second.context["rows"]] == [(product, "2")]
    assert second.context["totals"]["total"] == Decimal("22.60")
    assert SalesOrder.objects.count() == 0 and SalesOrderLine.objects.count() == 0  # nothing written while typing


def test_typing_a_sku_in_the_scan_field_works_too(client_as):
    client = client_as("sales")
    product = ProductFactory(sku="BOLT-M8")
    response = client.post(LINES, lines_post([], op="scan", scan_code="bolt-m8"))
    assert [r.product for r in response.context["rows"]] == [product]


@pytest.mark.parametrize(("code", "message"), [("NOPE-1", "No product has the barcode or SKU"), ("", "Scan a barcode")])
def test_an_unknown_scan_says_so_and_keeps_the_lines(client_as, code, message):
    client = client_as("sales")
    product = ProductFactory()
    response = client.post(LINES, lines_post([row(product, quantity="3")], op="scan", scan_code=code))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert [(r.product, r.form["quantity"].value()) for r in response.context["rows"]] == [(product, "3")]


def test_scanning_an_inactive_product_is_refused(client_as):
    client = client_as("sales")
    product = ProductFactory(barcode=ean13("690123456780"), is_active=False)
    response = client.post(LINES, lines_post([], op="scan", scan_code=product.barcode))
    assert "no longer sold" in response.content.decode()
    assert response.context["rows"] == []


def test_adding_from_search_and_removing_a_line(client_as):
    client = client_as("sales")
    a, b = ProductFactory(), ProductFactory()
    added = client.post(LINES, lines_post([row(a)], op="add", add_product=str(b.pk)))
    assert [r.product for r in added.context["rows"]] == [a, b]
    removed = client.post(LINES, lines_post([row(a), row(b)], op="remove", remove_index="0"))
    assert [r.product for r in removed.context["rows"]] == [b]


@pytest.mark.parametrize(
    "extra",
    [
        {"op": "remove", "remove_index": "5"},
        {"op": "remove", "remove_index": "x"},
        {"op": "explode"},
    ],
)
def test_nonsense_line_operations_get_a_400_with_a_json_error(client_as, extra):
    client = client_as("sales")
    response = client.post(LINES, lines_post([row(ProductFactory())], **extra))
    assert response.status_code == 400
    assert "error" in response.json()


def test_live_recompute_shows_line_errors_without_saving(client_as):
    client = client_as("sales")
    product = ProductFactory(max_discount_percent=Decimal("10"))
    response = client.post(LINES, lines_post([row(product, quantity="abc"), row(product, discount="50")], op="recalc"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a whole number." in body and "At most 10 % discount" in body
    assert response.context["totals"]["complete"] is False
    assert SalesOrderLine.objects.count() == 0


def test_live_totals_follow_the_typed_figures(client_as):
    client = client_as("sales")
    product = ProductFactory(list_price=Decimal("33.33"), tax_rate=Decimal("0.1300"))
    response = client.post(LINES, lines_post([row(product, quantity="3", discount="10")], op="recalc"))
    totals = response.context["totals"]
    assert (totals["net"], totals["tax"], totals["total"]) == (Decimal("89.99"), Decimal("11.70"), Decimal("101.69"))


def test_product_search_lists_active_products_only(client_as):
    client = client_as("sales")
    ProductFactory(name="Red valve", sku="V-RED")
    ProductFactory(name="Red valve old", sku="V-OLD", is_active=False)
    body = client.get(reverse("orders:entry_product_search"), {"q": "valve"}).content.decode()
    assert "V-RED" in body and "V-OLD" not in body
    assert "No active product matches" in client.get(reverse("orders:entry_product_search"), {"q": "zzz"}).content.decode()


def test_customer_search_and_pick_preselect_the_default_address_and_primary_contact(client_as):
    client = client_as("sales")
    customer = CustomerFactory(name="Harbour Trading")
    Address.objects.create(customer=customer, recipient="Other", line1="x", city="y", kind="shipping")
    default = Address.objects.create(customer=customer, recipient="Main", line1="a", city="b", kind="shipping", is_default=True)
    contact = ContactFactory(customer=customer, is_primary=True)
    found = client.get(reverse("orders:entry_customer_search"), {"q": "harbour"})
    assert customer in found.context["customers"]
    picked = client.get(reverse("orders:entry_customer_pick"), {"customer": customer.pk})
    form = picked.context["form"]
    assert form.selected_customer == customer
    assert form["shipping_address"].value() == default.pk and form["contact"].value() == contact.pk
    assert "Harbour Trading" in picked.content.decode()


def test_picking_a_blocked_customer_shows_the_block(client_as):
    client = client_as("sales")
    customer = CustomerFactory(is_blocked=True, blocked_reason="Bankrupt")
    body = client.get(reverse("orders:entry_customer_pick"), {"customer": customer.pk}).content.decode()
    assert "Blocked" in body and "Bankrupt" in body


# --- editing a draft -------------------------------------------------------------------------------


def test_editing_a_draft_replaces_its_lines_and_logs_what_changed(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user, lines=2, customer_po="PO-1")
    kept, dropped = [line.product for line in order.lines.order_by("position")]
    added = ProductFactory(sku="NEW-1")
    page = client.get(reverse("orders:edit", args=[order.pk]))
    assert page.status_code == 200 and len(page.context["rows"]) == 2
    data = entry_post(
        customer=order.customer,
        address=order.shipping_address,
        version=order.version,
        customer_po="PO-2",
        lines=[(kept, 5, "100.00", "0"), (added, 1, "100.00", "0")],
    )
    response = client.post(reverse("orders:edit", args=[order.pk]), data)
    assert response.status_code == 302
    saved = SalesOrder.objects.get(pk=order.pk)
    assert saved.version == order.version + 1
    assert saved.customer_po == "PO-2"
    assert list(saved.lines.order_by("position").values_list("product__sku", "quantity")) == [(kept.sku, 5), ("NEW-1", 1)]
    assert saved.total == Decimal("678.00")
    edit = saved.events.get(kind=OrderEvent.Kind.EDITED)
    assert edit.by == client.user
    for fragment in ("customer PO number", "added NEW-1", f"removed {dropped.sku}", f"of {kept.sku}"):
        assert fragment in edit.sentence


def test_a_draft_edited_by_two_people_keeps_the_first_save(client_as, make_user):
    first, second = client_as("sales"), None
    order = draft_order(by=first.user, customer_po="ORIGINAL")
    product = order.lines.get().product
    opened_version = order.version
    from django.test import Client

    second = Client()
    second.force_login(make_user("sales", "manager"))  # a sales lead, who may edit a colleague's draft
    url = reverse("orders:edit", args=[order.pk])
    common = {"customer": order.customer, "address": order.shipping_address, "version": opened_version}
    assert first.post(url, entry_post(customer_po="FIRST", lines=[(product, 7, "100.00", "0")], **common)).status_code == 302
    response = second.post(url, entry_post(customer_po="SECOND", lines=[(product, 1, "100.00", "0")], **common))
    assert response.status_code == 200
    assert "Someone else saved order" in response.content.decode()
    saved = SalesOrder.objects.get(pk=order.pk)
    assert (saved.customer_po, saved.version) == ("FIRST", opened_version + 1)
    assert list(saved.lines.values_list("quantity", flat=True)) == [7]
    assert saved.events.filter(kind=OrderEvent.Kind.EDITED).count() == 1


def test_a_form_opened_before_submission_cannot_overwrite_a_reopened_draft(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user)
    opened_version = order.version
    from orders.entry import services

    services.order_submit(order=order, by=client.user)
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.REJECTED)  # as a reviewer would
    services.order_reopen(order=SalesOrder.objects.get(pk=order.pk), by=client.user)
    product = order.lines.get().product
    response = client.post(
        reverse("orders:edit", args=[order.pk]),
        entry_post(
            customer=order.customer, address=order.shipping_address, version=opened_version, lines=[(product, 9, "100.00", "0")]
        ),
    )
    assert "Someone else saved order" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).lines.get().quantity == 2


def test_an_order_that_is_no_longer_a_draft_cannot_be_edited(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user)
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.APPROVED)
    response = client.get(reverse("orders:edit", args=[order.pk]), follow=True)
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert "no longer a draft" in response.content.decode()


# --- the order's actions from its page ---------------------------------------------------------


def test_submitting_from_the_order_page(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user)
    response = client.post(reverse("orders:submit", args=[order.pk]), follow=True)
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
    assert "was submitted" in response.content.decode()


def test_submitting_for_a_blocked_customer_from_the_order_page_shows_the_reason(client_as):
    client = client_as("sales")
    customer, address = customer_with_address(is_blocked=True, blocked_reason="Legal dispute")
    order = draft_order(by=client.user, customer=customer, address=address)
    response = client.post(reverse("orders:submit", args=[order.pk]), follow=True)
    assert "Legal dispute" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_cancel_page_needs_a_reason(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user)
    url = reverse("orders:cancel", args=[order.pk])
    page = client.get(url)
    assert page.status_code == 200 and "data-confirm" in page.content.decode()
    refused = client.post(url, {"reason": "   "})
    assert refused.status_code == 200 and "Say why the order is cancelled." in refused.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    done = client.post(url, {"reason": "Customer called to cancel"})
    assert done.status_code == 302
    cancelled = SalesOrder.objects.get(pk=order.pk)
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.events.order_by("-pk").first().note == "Customer called to cancel"


def test_a_shipped_order_offers_no_cancel(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user)
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    response = client.post(reverse("orders:cancel", args=[order.pk]), {"reason": "late"}, follow=True)
    assert "cannot be cancelled" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_warehouse_cannot_open_the_cancel_page(client_as, make_user):
    order = draft_order(by=make_user("sales"))
    assert client_as("warehouse").post(reverse("orders:cancel", args=[order.pk]), {"reason": "x"}).status_code == 403


def test_reopening_a_rejected_order_leads_to_its_edit_page(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user)
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.REJECTED)
    response = client.post(reverse("orders:reopen", args=[order.pk]))
    assert response.status_code == 302 and response.url == reverse("orders:edit", args=[order.pk])
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_reopening_a_draft_is_refused_with_a_message(client_as):
    client = client_as("sales")
    order = draft_order(by=client.user)
    response = client.post(reverse("orders:reopen", args=[order.pk]), follow=True)
    assert "cannot do" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).events.count() == 1
