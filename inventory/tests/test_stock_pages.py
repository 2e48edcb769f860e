"""Stock pages through the test client: who may open what, receipts by scanning, adjustments,
reversals, allocation runs, the order and product stock sections, bad input, query counts."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from config.actors import Actor  # noqa: E402
from inventory.models import MovementKind, Reservation, StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, approved_order, stocked_product
from orders.fulfilment.services import order_allocate
from orders.models import OrderStatus, SalesOrder
from orders.tests.factories import ean13
from tests.queries import assert_constant_queries, queries_for
from tests.submissions import with_token

SYSTEM = Actor.system("allocation")

pytestmark = pytest.mark.django_db

ALL_ROLES = ["sales", "reviewer", "warehouse", "finance", "manager"]


@pytest.fixture
def sh():
    return WarehouseFactory(code="SH", priority=1)


@pytest.fixture
def bj():
    return WarehouseFactory(code="BJ", priority=2)


def body(response) -> str:
    return response.content.decode()


def reload(order):
    return SalesOrder.objects.get(pk=order.pk)


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sees_stock_availability(client_as, role, sh):
    product = stocked_product(stock={sh: 12})
    client = client_as(role)
    overview = client.get(reverse("inventory:stock_overview"))
    assert overview.status_code == 200 and product.sku in body(overview)
    assert client.get(reverse("inventory:product_stock", args=[product.pk])).status_code == 200


WAREHOUSE_ONLY = [
    ("get", "inventory:receipt", {}),
    ("post", "inventory:receipt", {}),
    ("get", "inventory:stock_lookup", {}),
    ("get", "inventory:adjust", {}),
    ("post", "inventory:adjust", {}),
    ("post", "orders:allocation_run", {}),
    ("get", "inventory:replenishment_create", {}),
    ("post", "inventory:replenishment_from_proposal", {}),
]


@pytest.mark.parametrize("role", ["sales", "reviewer", "finance", "manager"])
@pytest.mark.parametrize(("method", "url_name", "data"), WAREHOUSE_ONLY)
def test_only_warehouse_staff_may_receive_adjust_allocate_and_replenish(client_as, role, method, url_name, data):
    response = getattr(client_as(role), method)(reverse(url_name), data)
    assert response.status_code == 403


@pytest.mark.parametrize(("role", "status"), [("warehouse", 200), ("manager", 200), ("sales", 403), ("finance", 403)])
def test_warehouse_and_managers_read_replenishment(client_as, role, status):
    assert client_as(role).get(reverse("inventory:replenishment_list")).status_code == status


@pytest.mark.parametrize("role", ["sales", "reviewer", "finance", "manager"])
def test_only_warehouse_staff_may_reverse_movements(client_as, role, sh):
    movement = StockMovement.objects.get(product=stocked_product(stock={sh: 3}))
    url = reverse("inventory:movement_reverse", args=[movement.pk])
    client = client_as(role)
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "oops"}).status_code == 403
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(("role", "allowed"), [("warehouse", True), ("manager", True), ("sales", False), ("finance", False)])
def test_low_stock_alerts_are_for_warehouse_and_managers(client_as, role, allowed):
    response = client_as(role).get(reverse("inventory:alert_list"))
    assert response.status_code == (200 if allowed else 403)


def test_sales_see_levels_but_not_the_ledger(client_as, sh):
    product = stocked_product(stock={sh: 12})
    response = client_as("sales").get(reverse("inventory:product_stock", args=[product.pk]))
    assert response.status_code == 200
    assert response.context["levels"][0].on_hand == 12
    assert "page_obj" not in response.context
    assert "test stock" not in body(response)  # the movement's reason


def test_unknown_product_or_movement_is_a_404(client_as):
    client = client_as("warehouse")
    assert client.get(reverse("inventory:product_stock", args=[999999])).status_code == 404
    assert client.get(reverse("inventory:movement_reverse", args=[999999])).status_code == 404


# --- stock overview ---------------------------------------------------------------------------


def test_overview_filters_by_search_warehouse_and_low_stock(client_as, sh, bj):
    plenty = stocked_product(stock={sh: 50}, name="螺栓 M8")
    scarce = stocked_product(stock={sh: 2, bj: 30}, safety_stock=5, name="螺母 M8")
    empty = stocked_product(stock={bj: 0}, name="垫圈")
    StockLevel.objects.get_or_create(product=empty, warehouse=bj)
    client = client_as("warehouse")
    url = reverse("inventory:stock_overview")

    def listed(**params):
        return {(level.product.sku, level.warehouse.code) for level in client.get(url, params).context["page_obj"]}

    assert listed(q="螺母") == {(scarce.sku, "SH"), (scarce.sku, "BJ")}
    assert listed(q=plenty.sku.lower()) == {(plenty.sku, "SH")}
    assert listed(warehouse=bj.pk) == {(scarce.sku, "BJ"), (empty.sku, "BJ")}
    assert listed(stock="below_safety") == {(scarce.sku, "SH")}
    assert listed(stock="out_of_stock") == {(empty.sku, "BJ")}
    assert listed(q="nothing-like-this") == set()
    response = client.get(url, {"q": "nothing-like-this"})
    assert "No stock row matches these filters." in body(response)


def test_overview_sorts_by_available(client_as, sh):
    for quantity in (5, 50, 20):
        stocked_product(stock={sh: quantity})
    page = client_as("warehouse").get(reverse("inventory:stock_overview"), {"sort": "-available"}).context["page_obj"]
    assert [level.free for level in page] == [50, 20, 5]


def test_bad_filter_values_do_not_break_the_overview(client_as):
    response = client_as("warehouse").get(reverse("inventory:stock_overview"), {"warehouse": "abc", "stock": "nope", "page": "x"})
    assert response.status_code == 200


def test_overview_query_count_does_not_grow_with_rows(client_as, sh, bj):
    client = client_as("manager")
    assert_constant_queries(
        lambda n: [stocked_product(stock={sh: 3, bj: 1}, safety_stock=2) for _ in range(n)],
        lambda: client.get(reverse("inventory:stock_overview")),
    )


# --- goods receipt ----------------------------------------------------------------------------


def test_warehouse_receives_scanned_goods_and_the_waiting_order_is_allocated(client_as, sh, django_capture_on_commit_callbacks):
    widget = ProductFactory(barcode=ean13("690123456789"))
    other = ProductFactory()
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(widget, 3)]))
    assert order.status == OrderStatus.BACKORDERED
    client = client_as("warehouse")

    lines = f"{widget.barcode}\n{widget.barcode}\n{widget.barcode}\n{other.sku.lower()} 5\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("inventory:receipt"), with_token({"warehouse": sh.pk, "reference": "SUP-DN-778", "lines": lines})
        )

    assert response.status_code == 302
    receipts = StockMovement.objects.filter(kind=MovementKind.RECEIPT).order_by("product__sku")
    assert {(m.product_id, m.quantity) for m in receipts} == {(widget.pk, 3), (other.pk, 5)}
    assert all(m.created_by == client.user and "SUP-DN-778" in m.reason_text and m.document.startswith("GR-") for m in receipts)
    assert len({m.document for m in receipts}) == 1
    assert reload(order).status == OrderStatus.ALLOCATED
    assert "Receipt GR-" in body(client.get(response.url))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("NO-SUCH-CODE\n", "Line 1: no product has the barcode or SKU “NO-SUCH-CODE”."),
        ("{sku} 0\n", "Line 1: the quantity must be between 1 and 1000000."),
        ("{sku} 5000000\n", "Line 1: the quantity must be between 1 and 1000000."),
        ("{sku}\nBAD 3\n", "Line 2: no product has the barcode or SKU “BAD”."),
        ("   \n", "This field is required."),
    ],
)
def test_receipt_with_bad_lines_names_them_and_posts_nothing(client_as, sh, lines, message):
    product = ProductFactory()
    response = client_as("warehouse").post(
        reverse("inventory:receipt"), with_token({"warehouse": sh.pk, "lines": lines.format(sku=product.sku)})
    )
    assert response.status_code == 400
    assert message in body(response)
    assert not StockMovement.objects.exists()


def test_receipt_into_an_unknown_or_inactive_warehouse_is_refused(client_as, sh):
    product = ProductFactory()
    closed = WarehouseFactory(code="OLD", is_active=False)
    client = client_as("warehouse")
    for warehouse in ("999999", "abc", str(closed.pk)):
        response = client.post(reverse("inventory:receipt"), with_token({"warehouse": warehouse, "lines": product.sku}))
        assert response.status_code == 400
        assert "Select a valid choice" in body(response)
    assert not StockMovement.objects.exists()


def test_scanner_lookup_answers_in_json(client_as):
    product = ProductFactory(barcode=ean13("690000000001"))
    client = client_as("warehouse")
    url = reverse("inventory:stock_lookup")
    found = client.get(url, {"code": product.barcode})
    assert found.status_code == 200
    assert found.json() == {"id": product.pk, "sku": product.sku, "name": product.name, "barcode": product.barcode}
    assert client.get(url, {"code": product.sku.lower()}).json()["id"] == product.pk
    missing = client.get(url, {"code": "0000"})
    assert missing.status_code == 404 and "0000" in missing.json()["error"]
    assert client.get(url).status_code == 400


# --- adjustments and reversals ----------------------------------------------------------------


def test_adjustment_posts_a_movement_with_its_reason(client_as, sh):
    product = stocked_product(stock={sh: 10})
    client = client_as("warehouse")
    response = client.post(
        reverse("inventory:adjust"),
        with_token({"warehouse": sh.pk, "product": product.sku, "quantity": -3, "reason": "破损 damaged in storage"}),
    )
    assert response.status_code == 302
    movement = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (movement.quantity, movement.reason, movement.created_by) == (-3, "破损 damaged in storage", client.user)
    assert StockLevel.objects.get(product=product, warehouse=sh).on_hand == 7


def test_adjustment_below_reserved_is_refused_with_a_clear_message(client_as, sh):
    product = stocked_product(stock={sh: 10})
    order_allocate(by=SYSTEM, order=approved_order(lines=[(product, 8)]))
    response = client_as("warehouse").post(
        reverse("inventory:adjust"), with_token({"warehouse": sh.pk, "product": product.sku, "quantity": -3, "reason": "lost"})
    )
    assert response.status_code == 400
    assert f"{product.sku} in SH: 10 on hand, 8 reserved; cannot take 3 out." in body(response)
    assert StockLevel.objects.get(product=product, warehouse=sh).on_hand == 10


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quantity": 2, "reason": "  "}, "reason", "This field is required."),
        ({"quantity": 0, "reason": "x"}, "quantity", "Enter a change other than zero."),
        ({"quantity": "ten", "reason": "x"}, "quantity", "Enter a whole number."),
        ({"quantity": 10**9, "reason": "x"}, "quantity", "less than or equal to 1000000"),
        ({"quantity": 2, "reason": "x", "product": "NOPE"}, "product", "No product has the barcode or SKU “NOPE”."),
    ],
)
def test_adjustment_with_bad_input_explains_itself(client_as, sh, data, field, message):
    product = stocked_product(stock={sh: 10})
    response = client_as("warehouse").post(
        reverse("inventory:adjust"), with_token({"warehouse": sh.pk, "product": product.sku, **data})
    )
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert StockMovement.objects.count() == 1


def test_adjust_page_is_prefilled_from_the_product_page(client_as, sh):
    product = stocked_product(stock={sh: 1})
    response = client_as("warehouse").get(reverse("inventory:adjust"), {"product": product.pk, "warehouse": sh.pk})
    assert response.context["form"].initial == {"product": product.sku, "warehouse": str(sh.pk)}


def test_reversing_a_movement_posts_its_opposite_once(client_as, sh):
    product = stocked_product(stock={sh: 10})
    movement = StockMovement.objects.get(product=product)
    client = client_as("warehouse")
    url = reverse("inventory:movement_reverse", args=[movement.pk])
    assert client.get(url).status_code == 200

    assert client.post(url, with_token({"reason": "booked to the wrong warehouse"})).status_code == 302
    reversal = StockMovement.objects.get(reverses=movement)
    assert (reversal.quantity, reversal.kind, reversal.reason) == (-10, MovementKind.RECEIPT, "booked to the wrong warehouse")
    assert StockLevel.objects.get(product=product, warehouse=sh).on_hand == 0

    again = client.post(url, with_token({"reason": "again"}))
    assert again.status_code == 400 and "This movement was already reversed." in body(again)
    of_reversal = client.post(reverse("inventory:movement_reverse", args=[reversal.pk]), with_token({"reason": "undo"}))
    assert of_reversal.status_code == 400 and "A reversal cannot be reversed" in body(of_reversal)
    assert StockMovement.objects.count() == 2


def test_reversal_needs_a_reason_and_cannot_take_reserved_stock(client_as, sh):
    product = stocked_product(stock={sh: 10})
    movement = StockMovement.objects.get(product=product)
    order_allocate(by=SYSTEM, order=approved_order(lines=[(product, 4)]))
    client = client_as("warehouse")
    url = reverse("inventory:movement_reverse", args=[movement.pk])
    assert client.post(url, with_token({"reason": ""})).status_code == 400
    refused = client.post(url, with_token({"reason": "wrong"}))
    assert refused.status_code == 400 and "4 reserved; cannot take 10 out." in body(refused)
    assert StockMovement.objects.count() == 1


def test_product_stock_page_shows_the_ledger_paginated_with_constant_queries(client_as, sh, bj):
    product = stocked_product(stock={sh: 5, bj: 5})
    client = client_as("warehouse")
    url = reverse("inventory:product_stock", args=[product.pk])

    def more_movements(n):
        from inventory.stock.services import stock_post_movement

        for _ in range(n):
            stock_post_movement(
                product=product, warehouse=sh, kind=MovementKind.ADJUSTMENT, quantity=1, reason="found", by=client.user
            )

    assert_constant_queries(more_movements, lambda: client.get(url), sizes=(1, 30))
    response = client.get(url)
    assert response.context["page_obj"].paginator.count == 33
    assert "found" in body(response) and client.user.username in body(response)
    assert [m.kind for m in client.get(url, {"kind": "receipt"}).context["page_obj"]] == ["receipt", "receipt"]


# --- allocation page --------------------------------------------------------------------------


def test_allocation_page_lists_waiting_orders_oldest_approval_first(client_as, sh):
    from datetime import timedelta

    from django.utils import timezone

    product = stocked_product(stock={sh: 1})
    now = timezone.now()
    newer = approved_order(lines=[(product, 2)], approved_at=now - timedelta(hours=1))
    older = approved_order(lines=[(product, 2)], approved_at=now - timedelta(days=2))
    order_allocate(by=SYSTEM, order=older)  # 1 reserved, 1 short
    response = client_as("warehouse").get(reverse("orders:allocation"))
    rows = list(response.context["page_obj"])
    assert [order.pk for order in rows] == [older.pk, newer.pk]
    assert (rows[0].units_ordered, rows[0].units_reserved, rows[0].units_short) == (2, 1, 1)
    assert (rows[1].units_ordered, rows[1].units_reserved, rows[1].units_short) == (2, 0, 2)


def test_warehouse_allocates_one_order_from_the_page(client_as, sh):
    product = stocked_product(stock={sh: 5})
    order = approved_order(lines=[(product, 5)])
    client = client_as("warehouse")
    response = client.post(reverse("orders:allocation_run"), {"order": order.pk})
    assert response.status_code == 302
    assert reload(order).status == OrderStatus.ALLOCATED
    assert f"Order {order.number} is now Allocated." in body(client.get(response.url))
    assert order.events.filter(kind="allocation", by=client.user).exists()


def test_warehouse_allocates_all_waiting_orders(client_as, sh):
    product = stocked_product(stock={sh: 5})
    orders = [approved_order(lines=[(product, 2)]) for _ in range(3)]
    client = client_as("warehouse")
    response = client.post(reverse("orders:allocation_run"), {"all": "1"})
    assert [reload(o).status for o in orders] == [OrderStatus.ALLOCATED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED]
    assert "2 orders allocated, 1 backordered." in body(client.get(response.url))


@pytest.mark.parametrize("data", [{}, {"order": "abc"}, {"order": 999999}, {"order": -4}])
def test_allocation_run_with_bad_input_says_so(client_as, data):
    client = client_as("warehouse")
    response = client.post(reverse("orders:allocation_run"), data, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_allocating_an_order_that_is_not_waiting_changes_nothing(client_as, sh):
    product = stocked_product(stock={sh: 5})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(product, 5)]))
    response = client_as("warehouse").post(reverse("orders:allocation_run"), {"order": order.pk}, follow=True)
    assert "is not waiting for stock" in body(response)
    assert Reservation.objects.count() == 1


def test_allocation_page_query_count_does_not_grow_with_orders(client_as, sh):
    product = stocked_product(stock={sh: 1})
    client = client_as("warehouse")
    assert_constant_queries(
        lambda n: [approved_order(lines=[(product, 1), (product, 2)]) for _ in range(n)],
        lambda: client.get(reverse("orders:allocation")),
    )


# --- the sections other pages include ---------------------------------------------------------


def render_partial(name: str, **context) -> str:
    request = RequestFactory().get("/")
    return render_to_string(name, context, request=request)


def test_order_stock_section_shows_where_each_line_is_reserved_and_the_shortfall(sh, bj):
    bolts = stocked_product(stock={sh: 2, bj: 1})
    nuts = stocked_product(stock={bj: 4})
    order = order_allocate(by=SYSTEM, order=approved_order(lines=[(bolts, 5), (nuts, 4)]))
    html = render_partial("orders/partials/order_stock.html", order=order)
    assert "SH: 2" in html and "BJ: 1" in html and "BJ: 4" in html
    assert "<strong>2</strong>" in html  # bolts short by two


def test_order_stock_section_before_approval_shows_free_stock(sh, bj, make_user):
    from orders.tests.factories import draft_order

    bolts = stocked_product(stock={sh: 7, bj: 3})
    order = draft_order(by=make_user("sales"), products=[bolts], quantity=2)
    html = render_partial("orders/partials/order_stock.html", order=order)
    assert "Free stock now" in html and "SH: 7, BJ: 3" in html


def test_order_stock_section_query_count_does_not_grow_with_lines(sh):
    orders = {}

    def make(n):
        products = [stocked_product(stock={sh: 1}) for _ in range(n)]
        orders[n] = order_allocate(by=SYSTEM, order=approved_order(lines=[(p, 2) for p in products]))

    make(1)
    make(10)
    assert queries_for(lambda: render_partial("orders/partials/order_stock.html", order=orders[1])) == queries_for(
        lambda: render_partial("orders/partials/order_stock.html", order=orders[10])
    )


def test_product_stock_section_lists_each_warehouse(sh, bj):
    product = stocked_product(stock={sh: 9, bj: 4}, safety_stock=5)
    html = render_partial("inventory/partials/product_stock.html", product=product, perms={})
    assert "SH" in html and "BJ" in html and "badge-low" in html
    assert reverse("inventory:product_stock", args=[product.pk]) in html


# --- planning and admin -----------------------------------------------------------------------


def test_warehouse_sets_safety_stock_and_the_alert_follows(client_as, sh, bj, django_capture_on_commit_callbacks):
    from inventory.models import LowStockAlert

    product = stocked_product(stock={sh: 4})
    client = client_as("warehouse")
    page = client.get(reverse("inventory:product_stock", args=[product.pk]))
    assert [level.warehouse.code for level in page.context["levels"]] == ["SH", "BJ"]  # BJ has no row yet
    assert reverse("inventory:stock_planning", args=[product.pk, bj.pk]) in body(page)

    url = reverse("inventory:stock_planning", args=[product.pk, sh.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"safety_stock": 10, "reorder_point": 15, "reorder_quantity": 50})
    assert response.status_code == 302
    level = StockLevel.objects.get(product=product, warehouse=sh)
    assert (level.safety_stock, level.reorder_point, level.reorder_quantity) == (10, 15, 50)
    assert LowStockAlert.objects.get(product=product, resolved_at__isnull=True).available == 4

    planned_elsewhere = client.post(
        reverse("inventory:stock_planning", args=[product.pk, bj.pk]),
        {"safety_stock": 1, "reorder_point": 2, "reorder_quantity": 0},
    )
    assert planned_elsewhere.status_code == 302
    assert StockLevel.objects.get(product=product, warehouse=bj).on_hand == 0


def test_planning_refuses_negative_or_missing_figures(client_as, sh):
    product = stocked_product(stock={sh: 4})
    client = client_as("warehouse")
    url = reverse("inventory:stock_planning", args=[product.pk, sh.pk])
    response = client.post(url, {"safety_stock": -1, "reorder_point": "", "reorder_quantity": "x"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"safety_stock", "reorder_point", "reorder_quantity"}
    assert client.get(reverse("inventory:stock_planning", args=[product.pk, 999999])).status_code == 404
    assert client_as("sales").post(url, {"safety_stock": 1, "reorder_point": 1, "reorder_quantity": 1}).status_code == 403


@pytest.mark.parametrize(
    "model", ["warehouse", "stocklevel", "stockmovement", "reservation", "lowstockalert", "ledgercheck", "replenishmentrequest"]
)
def test_admin_shows_stock_read_only(client, make_user, sh, model):
    product = stocked_product(stock={sh: 4})
    order_allocate(by=SYSTEM, order=approved_order(lines=[(product, 2)]))
    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get(reverse(f"admin:inventory_{model}_changelist")).status_code == 200
    if model in ("stockmovement", "reservation", "lowstockalert", "ledgercheck", "replenishmentrequest"):
        assert client.get(reverse(f"admin:inventory_{model}_add")).status_code == 403


def test_the_ledger_words_system_reasons_when_shown_and_keeps_typed_and_legacy_text(client_as, sh):
    from django.utils import translation

    from inventory.stock.services import stock_post_movement

    product = stocked_product(stock={sh: 10})  # "test stock": typed text, no params
    with translation.override("zh-hans"):  # whoever writes, the row keeps the English msgid and its figures
        worded = stock_post_movement(
            product=product,
            warehouse=sh,
            kind=MovementKind.TRANSFER_OUT,
            quantity=-2,
            reason="Transfer %(number)s to %(wh)s",
            params={"number": "TR-2026-000009", "wh": "BJ"},
        )
    assert worded.reason == "Transfer %(number)s to %(wh)s"
    legacy = StockMovement.objects.create(
        product=product, warehouse=sh, kind=MovementKind.ADJUSTMENT, quantity=1, reason="盘点差异 %(旧)"
    )

    body = client_as("warehouse").get(reverse("inventory:product_stock", args=[product.pk])).content.decode()

    assert "Transfer TR-2026-000009 to BJ" in body and "%(number)s" not in body
    assert "test stock" in body and legacy.reason_text == "盘点差异 %(旧)" and "盘点差异 %(旧)" in body
