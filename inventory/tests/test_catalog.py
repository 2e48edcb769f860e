from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from config.actors import Actor
from config.errors import DomainError, PermissionRefused
from inventory.catalog.services import _save, product_create, product_set_active, product_update
from inventory.models import Product
from tests.queries import assert_constant_queries

from .factories import ProductFactory

pytestmark = pytest.mark.django_db

VALID = {
    "sku": "CUP-500-SS",
    "barcode": "6901234567892",
    "name": "不锈钢保温杯 500ml",
    "unit": "pcs",
    "list_price": "89.00",
    "cost": "41.50",
    "tax_rate": "0.13",
    "min_price": "75.00",
    "max_discount_percent": "",
    "description": "",
}


def test_warehouse_creates_a_product_through_the_page(client_as):
    response = client_as("warehouse").post(reverse("inventory:product_create"), VALID)
    product = Product.objects.get()
    assert response.status_code == 302 and response.url == product.get_absolute_url()
    assert product.barcode == "6901234567892" and product.list_price == Decimal("89.00")


def test_empty_barcode_is_stored_as_null_so_many_products_can_have_none(client_as):
    client = client_as("warehouse")
    client.post(reverse("inventory:product_create"), {**VALID, "barcode": ""})
    client.post(reverse("inventory:product_create"), {**VALID, "sku": "CUP-350-SS", "barcode": "  "})
    assert list(Product.objects.values_list("barcode", flat=True)) == [None, None]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("barcode", "6901234567893", "not a valid EAN-13 code"),
        ("barcode", "条码123", "printable ASCII"),
        ("list_price", "abc", "Enter a number"),
        ("list_price", "-0.01", "greater than or equal to 0"),
        ("list_price", "1" + "0" * 20, "no more than 14 digits"),
        ("list_price", "1.234", "no more than 2 decimal places"),
        ("cost", "NaN", "Enter a number"),
        ("tax_rate", "130", "between 0 and 100"),
        ("tax_rate", "thirteen", "Enter the tax rate as 0.13"),
        ("tax_rate", "-0.1", "between 0 and 100"),
        ("max_discount_percent", "101", "less than or equal to 100"),
        ("min_price", "100.00", "cannot be above the list price"),
        ("unit", "bucket", "Select a valid choice"),
        ("sku", "", "This field is required"),
        ("sku", "CUP 500", "no spaces"),
        ("name", "   ", "This field is required"),
    ],
)
def test_garbage_in_any_product_field_gives_a_form_error(client_as, field, value, message):
    response = client_as("warehouse").post(reverse("inventory:product_create"), {**VALID, field: value})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors.get(field, []))
    assert not Product.objects.exists()


def test_duplicate_barcode_is_a_form_error_not_an_integrity_error(client_as):
    ProductFactory(sku="OTHER-1", barcode="6901234567892")
    response = client_as("warehouse").post(reverse("inventory:product_create"), VALID)
    assert response.status_code == 400
    assert "already exists" in " ".join(response.context["form"].errors["barcode"])


@pytest.mark.parametrize("sku", ["CUP-500-SS", "cup-500-ss"])
def test_duplicate_sku_in_any_case_is_a_form_error(client_as, sku):
    ProductFactory(sku="CUP-500-SS")
    response = client_as("warehouse").post(reverse("inventory:product_create"), {**VALID, "sku": sku, "barcode": ""})
    assert response.status_code == 400
    assert "already used" in " ".join(response.context["form"].errors["sku"])


def test_service_turns_a_barcode_race_into_a_field_error():
    """Validation passed for both, the second insert hits the unique index: a DomainError, not a crash."""
    ProductFactory(sku="FIRST", barcode="6901234567892")
    product = Product(sku="SECOND", name="x", list_price=Decimal("1.00"), barcode="6901234567892")
    with pytest.raises(DomainError) as caught:
        _save(product)
    assert caught.value.field == "barcode"


def test_service_validates_without_a_form(make_user):
    with pytest.raises(ValidationError):
        product_create(data={"sku": "X-1", "name": "x", "list_price": Decimal("-1")}, by=make_user("warehouse"))
    assert not Product.objects.exists()


def test_catalogue_services_check_the_actors_permission(make_user):
    product = ProductFactory(list_price=Decimal("10.00"))
    seller = make_user("sales")
    with pytest.raises(PermissionRefused):
        product_create(data={"sku": "X-2", "name": "x", "list_price": Decimal("1.00")}, by=seller)
    with pytest.raises(PermissionRefused):
        product_update(product=product, data={"list_price": Decimal("1.00")}, by=seller)
    with pytest.raises(PermissionRefused):
        product_set_active(product=product, active=False, by=seller)
    with pytest.raises(ValueError):  # no actor at all is refused, not taken for the system
        product_set_active(product=product, active=False, by=None)
    product.refresh_from_db()
    assert (product.list_price, product.is_active) == (Decimal("10.00"), True)
    assert not Product.objects.filter(sku="X-2").exists()


def test_editing_a_product_keeps_its_barcode_unique_check_against_others_only(client_as):
    product = ProductFactory(sku="CUP-500-SS", barcode="6901234567892")
    response = client_as("warehouse").post(reverse("inventory:product_edit", args=[product.pk]), {**VALID, "list_price": "99.00"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.list_price == Decimal("99.00")


def test_update_service_applies_changes():
    product = ProductFactory(list_price=Decimal("10.00"))
    product_update(product=product, data={"list_price": Decimal("12.50"), "barcode": ""}, by=Actor.system("import"))
    product.refresh_from_db()
    assert product.list_price == Decimal("12.50") and product.barcode is None


def test_products_are_deactivated_not_deleted(client_as):
    product = ProductFactory()
    client = client_as("warehouse")
    assert client.get(reverse("inventory:product_deactivate", args=[product.pk])).status_code == 405
    response = client.post(reverse("inventory:product_deactivate", args=[product.pk]))
    assert response.status_code == 302
    product.refresh_from_db()
    assert not product.is_active
    client.post(reverse("inventory:product_activate", args=[product.pk]))
    product.refresh_from_db()
    assert product.is_active


def test_deactivating_twice_changes_nothing():
    product = ProductFactory(is_active=False)
    assert not product_set_active(product=product, active=False, by=Actor.system("demo")).is_active


@pytest.mark.parametrize(
    "role, url_name, method, status",
    [
        ("sales", "inventory:product_create", "get", 403),
        ("reviewer", "inventory:product_create", "get", 403),
        ("finance", "inventory:product_edit", "get", 403),
        ("sales", "inventory:product_edit", "post", 403),
        ("sales", "inventory:product_deactivate", "post", 403),
        ("sales", "inventory:product_import", "get", 403),
        ("finance", "inventory:product_import", "get", 403),
        ("manager", "inventory:product_import", "get", 200),
        ("warehouse", "inventory:product_edit", "get", 200),
        ("reviewer", "inventory:product_detail", "get", 200),
        ("finance", "inventory:product_list", "get", 200),
        ("sales", "inventory:product_export", "get", 200),
    ],
)
def test_product_permissions_per_role(client_as, role, url_name, method, status):
    product = ProductFactory()
    needs_pk = url_name in ("inventory:product_edit", "inventory:product_deactivate", "inventory:product_detail")
    url = reverse(url_name, args=[product.pk] if needs_pk else [])
    client = client_as(role)
    response = client.post(url, {**VALID}) if method == "post" else client.get(url)
    assert response.status_code == status
    product.refresh_from_db()
    assert product.is_active and product.sku != VALID["sku"]


def test_user_without_role_cannot_see_products(client_as):
    assert client_as().get(reverse("inventory:product_list")).status_code == 403


@pytest.mark.parametrize(
    "query, expected",
    [("保温杯", ["CUP-500-SS"]), ("cup-500", ["CUP-500-SS"]), ("6901234567892", ["CUP-500-SS"]), ("茶", ["TEA-250"])],
)
def test_product_search_by_sku_name_or_barcode(client_as, query, expected):
    ProductFactory(sku="CUP-500-SS", name="不锈钢保温杯 500ml", barcode="6901234567892")
    ProductFactory(sku="TEA-250", name="西湖龙井茶 250g")
    response = client_as("sales").get(reverse("inventory:product_list"), {"q": query})
    assert [p.sku for p in response.context["page_obj"]] == expected


def test_product_filters_active_and_unit(client_as):
    ProductFactory(sku="A", unit="box", is_active=False)
    ProductFactory(sku="B", unit="box")
    ProductFactory(sku="C", unit="pcs", is_active=False)
    response = client_as("sales").get(reverse("inventory:product_list"), {"is_active": "false", "unit": "box"})
    assert [p.sku for p in response.context["page_obj"]] == ["A"]


def test_product_detail_hides_cost_from_sales_and_shows_the_lowest_price(client_as):
    product = ProductFactory(list_price=Decimal("100.00"), cost=Decimal("61.37"), max_discount_percent=Decimal("15"))
    body = client_as("sales").get(product.get_absolute_url()).content.decode()
    assert "61.37" not in body and "85.00" in body
    assert "61.37" in client_as("warehouse").get(product.get_absolute_url()).content.decode()


def test_product_list_query_count_does_not_grow_with_rows(client_as):
    client = client_as("sales")
    assert_constant_queries(
        lambda n: ProductFactory.create_batch(n), lambda: client.get(reverse("inventory:product_list")), sizes=(1, 15)
    )


@pytest.mark.parametrize("typed", ["0.13", "13", "13%", "13 %"])
def test_tax_rate_may_be_typed_as_fraction_or_percent(client_as, typed):
    response = client_as("warehouse").post(reverse("inventory:product_create"), {**VALID, "tax_rate": typed})
    assert response.status_code == 302
    assert Product.objects.get().tax_rate == Decimal("0.1300")
