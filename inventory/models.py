from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def ean13_is_valid(code: str) -> bool:
    """True when a 13-digit code carries a correct EAN-13 check digit."""
    if len(code) != 13 or not code.isdigit():
        return False
    digits = [int(c) for c in code]
    checksum = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - checksum % 10) % 10 == digits[12]


def validate_barcode(value: str) -> None:
    """An all-digit 13-character barcode must be a valid EAN-13; other text is Code 128."""
    if value.isdigit() and len(value) == 13:
        if not ean13_is_valid(value):
            raise ValidationError(_("%(value)s is not a valid EAN-13 code (wrong check digit)."), params={"value": value})
        return
    if not (value.isascii() and value.isprintable()) or value != value.strip():
        raise ValidationError(_("A barcode may contain printable ASCII characters only, without surrounding spaces."))


class Product(models.Model):
    """Something the business sells, with its list price and the lowest price it may go for."""

    class Unit(models.TextChoices):
        PIECE = "pcs", _("piece")
        BOX = "box", _("box")
        CARTON = "ctn", _("carton")
        SET = "set", _("set")
        PACK = "pack", _("pack")
        KG = "kg", _("kilogram")
        M = "m", _("metre")

    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    barcode = models.CharField(
        _("barcode"), max_length=48, unique=True, null=True, blank=True, validators=[validate_barcode],
        help_text=_("EAN-13 (check digit verified) or Code 128 text."),
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    list_price = models.DecimalField(
        _("list price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    cost = models.DecimalField(
        _("cost"), max_digits=14, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(Decimal("0.00"))]
    )
    tax_rate = models.DecimalField(
        _("tax rate"), max_digits=5, decimal_places=4, default=settings.DEFAULT_TAX_RATE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("As a fraction: 0.13 is 13 %."),
    )
    min_price = models.DecimalField(
        _("minimum price"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    max_discount_percent = models.DecimalField(
        _("maximum discount %"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        permissions = [("import_product", _("Can import products"))]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="product_list_price_not_negative"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=1), name="product_tax_rate_fraction"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:product_detail", args=[self.pk])

    def clean(self) -> None:
        if self.barcode == "":
            self.barcode = None
        if self.min_price is not None and self.list_price is not None and self.min_price > self.list_price:
            raise ValidationError({"min_price": _("The minimum price cannot be above the list price.")})

    def lowest_allowed_price(self) -> Decimal | None:
        """The lowest unit price a salesperson may charge without review rights, if any."""
        floors = []
        if self.min_price is not None:
            floors.append(self.min_price)
        if self.max_discount_percent is not None:
            floors.append(self.list_price * (Decimal(100) - self.max_discount_percent) / Decimal(100))
        return max(floors) if floors else None
