"""What the API reads and answers: the order a channel pushes in, and orders, products, customers and
shipments as a channel sees them. Amounts are strings with two decimals (never floats)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.services import AddressInput, CustomerInput, LineRequest, OrderRequest
from billing.models import InvoiceStatus, PaymentState
from orders.entry.services import MAX_ORDER_LINES
from orders.models import MAX_LINE_QUANTITY, Channel, OrderStatus, PaymentStatus

# --- in -----------------------------------------------------------------------------------------


class CustomerInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20, required=False, help_text="An existing customer's code (C000123).")
    external_id = serializers.CharField(
        max_length=100, required=False, help_text="The channel's own id of the customer: the same id finds the same customer."
    )
    name = serializers.CharField(
        max_length=200, required=False, help_text="Creates the customer when neither code nor a known external_id is given."
    )
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("code"):
            return attrs
        if not attrs.get("name") and not attrs.get("external_id"):
            raise serializers.ValidationError(_("Give the customer's code, or its external_id and name to create it."))
        return attrs


class AddressInSerializer(serializers.Serializer):
    recipient = serializers.CharField(max_length=120)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=80)
    province = serializers.CharField(max_length=80, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", max_length=2, required=False, help_text="ISO 3166 code; CN when left out.")


class LineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40, required=False, help_text="The product's SKU (or give barcode).")
    barcode = serializers.CharField(max_length=48, required=False, help_text="The product's barcode (or give sku).")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, help_text="The product's list price when left out."
    )
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False)

    def validate(self, attrs):
        if bool(attrs.get("sku")) == bool(attrs.get("barcode")):
            raise serializers.ValidationError(_("Give either sku or barcode."))
        return attrs


class OrderInSerializer(serializers.Serializer):
    external_ref = serializers.CharField(
        max_length=100, help_text="The order's number in the channel: one order per channel and reference."
    )
    customer = CustomerInSerializer()
    shipping_address = AddressInSerializer(required=False, help_text="The customer's default shipping address when left out.")
    lines = LineInSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES)
    requested_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    customer_po = serializers.CharField(max_length=60, required=False, allow_blank=True)

    def to_request(self) -> OrderRequest:
        data = self.validated_data
        address = data.get("shipping_address")
        return OrderRequest(
            external_ref=data["external_ref"],
            customer=CustomerInput(**data["customer"]),
            lines=[LineRequest(**line) for line in data["lines"]],
            shipping_address=AddressInput(**address) if address else None,
            requested_date=data.get("requested_date"),
            notes=data.get("notes", ""),
            customer_po=data.get("customer_po", ""),
        )


class CancelInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the order is cancelled (shown on its timeline).")


# --- out ----------------------------------------------------------------------------------------


class CustomerRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class AddressOutSerializer(serializers.Serializer):
    recipient = serializers.CharField()
    phone = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    province = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()


class LineOutSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    line_net = serializers.DecimalField(max_digits=14, decimal_places=2)
    line_tax = serializers.DecimalField(max_digits=14, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    quantity_shipped = serializers.IntegerField()
    quantity_cancelled = serializers.IntegerField()
    quantity_returned = serializers.IntegerField()
    quantity_invoiced = serializers.IntegerField()


class CarrierSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ParcelSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    waybill_number = serializers.CharField()
    tracking_url = serializers.CharField(help_text="The carrier's tracking page for the waybill (empty when unknown).")


class ShipmentSerializer(serializers.Serializer):
    number = serializers.CharField()
    order = serializers.CharField(source="order.number")
    state = serializers.CharField()
    warehouse = serializers.CharField(source="warehouse.code")
    carrier = CarrierSerializer(allow_null=True)
    service = serializers.CharField()
    eta = serializers.DateField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    parcels = ParcelSerializer(many=True, source="parcels.all")


class OrderSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    payment_status = serializers.ChoiceField(
        choices=PaymentStatus.choices, help_text="Worked out by billing from the order's invoices; empty until invoiced."
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    external_ref = serializers.CharField()
    customer = CustomerRefSerializer()
    shipping_address = AddressOutSerializer(allow_null=True)
    customer_po = serializers.CharField()
    requested_date = serializers.DateField(allow_null=True)
    notes = serializers.CharField()
    currency = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    lines = LineOutSerializer(many=True, source="lines.all")
    shipments = ShipmentSerializer(many=True, source="shipments.all")
    tracking_url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="The customer's tracking page for the order."))
    def get_tracking_url(self, order) -> str | None:
        token = getattr(order, "tracking_token_value", None)
        return settings.SITE_URL + reverse("tracking_page", args=[token]) if token else None


class WarehouseStockSerializer(serializers.Serializer):
    warehouse = serializers.CharField(help_text="The warehouse's code.")
    available = serializers.IntegerField(help_text="On hand less reserved.")


class ProductSerializer(serializers.Serializer):
    sku = serializers.CharField()
    barcode = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    unit = serializers.CharField()
    list_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    available = serializers.SerializerMethodField()
    stock = serializers.SerializerMethodField()

    def get_available(self, product) -> int:
        return sum(quantity for _code, quantity in self.context["stock"].get(product.pk, []))

    @extend_schema_field(WarehouseStockSerializer(many=True))
    def get_stock(self, product):
        return [{"warehouse": code, "available": quantity} for code, quantity in self.context["stock"].get(product.pk, [])]


class CustomerSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    alt_name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    is_blocked = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class InvoiceLineSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    order = serializers.CharField(source="order.number", allow_null=True, default=None)
    sku = serializers.CharField(source="product.sku", allow_null=True, default=None)
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6, help_text="Net of discount.")
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    net = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax = serializers.DecimalField(max_digits=14, decimal_places=2)
    gross = serializers.DecimalField(max_digits=14, decimal_places=2)


class InvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    kind = serializers.CharField()
    customer = CustomerRefSerializer()
    buyer_name = serializers.CharField()
    currency = serializers.CharField()
    total_net = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_tax = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_gross = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_credited = serializers.DecimalField(max_digits=14, decimal_places=2)
    payment_state = serializers.ChoiceField(choices=PaymentState.choices)
    issued_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    fapiao_number = serializers.CharField()
    lines = InvoiceLineSerializer(many=True, source="lines.all")
    pdf_url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="The issued invoice's PDF (null until stored)."))
    def get_pdf_url(self, invoice) -> str | None:
        if not invoice.pdf:
            return None
        return settings.SITE_URL + reverse("api:invoice_pdf", args=[invoice.number])
