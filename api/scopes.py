"""What a channel client's scopes allow, as the Django permissions the services check."""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

ORDERS_WRITE = "orders:write"
ORDERS_READ = "orders:read"
PRODUCTS_READ = "products:read"
CUSTOMERS_READ = "customers:read"
SHIPMENTS_READ = "shipments:read"
INVOICES_READ = "invoices:read"

# scope -> (label, permissions it grants)
SCOPES: dict[str, tuple[str, frozenset[str]]] = {
    ORDERS_WRITE: (
        _("Push orders in and cancel them"),
        frozenset(
            {
                "orders.add_salesorder",
                "orders.submit_salesorder",
                "orders.cancel_salesorder",
                # a pushed order may bring a new customer or shipping address
                "customers.add_customer",
                "customers.change_customer",
            }
        ),
    ),
    ORDERS_READ: (_("Read orders and their shipments"), frozenset({"orders.view_salesorder"})),
    PRODUCTS_READ: (_("Read products and stock"), frozenset({"inventory.view_product", "inventory.view_stocklevel"})),
    CUSTOMERS_READ: (_("Read customers"), frozenset({"customers.view_customer"})),
    SHIPMENTS_READ: (_("Read shipments"), frozenset({"logistics.view_shipment"})),
    INVOICES_READ: (_("Read invoices"), frozenset({"billing.view_invoice"})),
}

DEFAULT_SCOPES = [ORDERS_WRITE, ORDERS_READ, PRODUCTS_READ]


def scope_choices() -> list[tuple[str, object]]:
    return [(scope, format_lazy("{} — {}", scope, label)) for scope, (label, _perms) in SCOPES.items()]


def permissions_of(scopes: list[str]) -> frozenset[str]:
    """The permissions a client holding these scopes acts with (unknown scopes grant nothing)."""
    granted: set[str] = set()
    for scope in scopes:
        if scope in SCOPES:
            granted |= SCOPES[scope][1]
    return frozenset(granted)
