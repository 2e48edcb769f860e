"""The roles of the business and what each may do; groups are kept in step by migrate.

A role is a Django group. Its permissions are listed here as "app_label.codename"; after every
migrate the groups are created and given exactly these permissions (sync is idempotent).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SALES = "sales"
REVIEWER = "reviewer"
WAREHOUSE = "warehouse"
FINANCE = "finance"
MANAGER = "manager"

_ROLES_ATTRIBUTE = "_role_names"


def user_roles(user) -> frozenset[str]:
    """The names of the user's roles (groups), read once per user object, so once per request: every home
    queue and panel asks. Like Django's permission cache, a change of groups shows from the next request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    roles = getattr(user, _ROLES_ATTRIBUTE, None)
    if roles is None:
        roles = frozenset(user.groups.values_list("name", flat=True))
        setattr(user, _ROLES_ATTRIBUTE, roles)
    return roles


def has_role(user, role: str) -> bool:
    return role in user_roles(user)


ROLE_LABELS = {
    SALES: _("Sales"),
    REVIEWER: _("Reviewer"),
    WAREHOUSE: _("Warehouse"),
    FINANCE: _("Finance"),
    MANAGER: _("Manager"),
}

_VIEW_CATALOG = [
    "customers.view_customer",
    "inventory.view_product",
    "inventory.view_stocklevel",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SALES: [
        *_VIEW_CATALOG,
        "customers.add_customer",
        "customers.change_customer",
        "customers.import_customer",
        "customers.export_customer",
        "customers.view_complaint",
        "customers.add_complaint",
        "customers.change_complaint",
        "orders.view_salesorder",
        "orders.add_salesorder",
        "orders.change_salesorder",
        "orders.submit_salesorder",
        "orders.cancel_salesorder",
        "orders.export_salesorder",
        "logistics.view_shipment",
    ],
    REVIEWER: [
        *_VIEW_CATALOG,
        "customers.view_complaint",
        "orders.view_salesorder",
        "orders.review_salesorder",
    ],
    WAREHOUSE: [
        *_VIEW_CATALOG,
        "inventory.add_product",
        "inventory.change_product",
        "inventory.import_product",
        "inventory.view_warehouse",
        "inventory.view_stockmovement",
        "inventory.view_reservation",
        "inventory.receive_stock",
        "inventory.adjust_stock",
        "inventory.count_stock",
        "inventory.transfer_stock",
        "inventory.view_stockcount",
        "inventory.view_stocktransfer",
        "inventory.manage_replenishment",
        "inventory.view_lowstockalert",
        "inventory.view_ledgercheck",
        "inventory.view_replenishmentrequest",
        "orders.view_salesorder",
        "orders.allocate_salesorder",
        "orders.ship_salesorder",
        "logistics.view_shipment",
        "logistics.add_shipment",
        "logistics.ship_shipment",
        "logistics.view_carrier",
    ],
    FINANCE: [
        *_VIEW_CATALOG,
        "customers.change_customer",
        "customers.block_customer",
        "customers.change_credit_terms",
        "customers.export_customer",
        "orders.view_salesorder",
        "orders.export_salesorder",
    ],
    MANAGER: [
        *_VIEW_CATALOG,
        "customers.add_customer",
        "customers.change_customer",
        "customers.block_customer",
        "customers.change_credit_terms",
        "customers.import_customer",
        "customers.export_customer",
        "customers.view_complaint",
        "customers.add_complaint",
        "customers.change_complaint",
        "inventory.add_product",
        "inventory.change_product",
        "inventory.import_product",
        "inventory.view_warehouse",
        "inventory.add_warehouse",
        "inventory.change_warehouse",
        "inventory.view_stockmovement",
        "inventory.view_stockcount",
        "inventory.view_stocktransfer",
        "inventory.view_reservation",
        "inventory.view_lowstockalert",
        "inventory.view_ledgercheck",
        "inventory.view_replenishmentrequest",
        "orders.view_salesorder",
        "orders.export_salesorder",
        "orders.review_salesorder",
        "orders.cancel_salesorder",
        "orders.manage_all_salesorder",
        "orders.change_reviewsettings",
        "orders.view_reviewsettings",
        "logistics.view_shipment",
        "logistics.view_carrier",
    ],
}


def _grant(permissions: dict[str, list[str]]) -> None:
    """Add an app's permissions to the roles; each app below keeps its own block."""
    for role, names in permissions.items():
        ROLE_PERMISSIONS[role].extend(name for name in names if name not in ROLE_PERMISSIONS[role])


# --- per-app grants ---

# logistics: delivery exceptions and returns
_grant(
    {
        # Warehouse staff report and resolve delivery exceptions and review carrier events nobody matched;
        # sales read those of their orders, managers all of them.
        WAREHOUSE: [
            "logistics.view_deliveryexception",
            "logistics.resolve_deliveryexception",
            "logistics.view_unmatchedtrackingevent",
            "logistics.change_unmatchedtrackingevent",
            "logistics.add_trackingevent",
        ],
        SALES: ["logistics.view_deliveryexception"],
        MANAGER: ["logistics.view_deliveryexception", "logistics.view_unmatchedtrackingevent"],
    }
)
# Returns: sales open them for the orders they entered (the service checks whose), the warehouse
# approves and receives, finance reads what asks for a refund, managers do all.
_grant(
    {
        SALES: ["logistics.view_returnrequest", "logistics.add_returnrequest"],
        WAREHOUSE: [
            "logistics.view_returnrequest",
            "logistics.add_returnrequest",
            "logistics.approve_returnrequest",
            "logistics.receive_returnrequest",
            "logistics.export_returnrequest",
            "logistics.export_shipment",
        ],
        FINANCE: ["logistics.view_returnrequest", "logistics.export_returnrequest"],
        MANAGER: [
            "logistics.view_returnrequest",
            "logistics.add_returnrequest",
            "logistics.approve_returnrequest",
            "logistics.receive_returnrequest",
            "logistics.export_returnrequest",
            "logistics.export_shipment",
        ],
    }
)


# billing: finance drafts, issues and credits invoices; managers read them; sales read their own orders'
# invoices without a permission of their own (billing.access: the receivables as a whole stay finance's)
_grant(
    {
        FINANCE: [
            "billing.view_invoice",
            "billing.add_invoice",
            "billing.change_invoice",
            "billing.issue_invoice",
            "billing.export_invoice",
            "billing.view_creditnote",
            "billing.add_creditnote",
            "billing.change_creditnote",
            "billing.issue_creditnote",
        ],
        MANAGER: ["billing.view_invoice", "billing.export_invoice", "billing.view_creditnote"],
    }
)

# payments and refunds: finance records and allocates them; managers read everything; sales read
# their own customers' payments (billing.payments.selectors.payments_visible_to)
_grant(
    {
        FINANCE: [
            "billing.view_payment",
            "billing.add_payment",
            "billing.allocate_payment",
            "billing.void_payment",
            "billing.manage_acceptance_bill",
            "billing.view_all_payment",
            "billing.export_payment",
            "billing.view_refund",
            "billing.add_refund",
            "billing.pay_refund",
        ],
        MANAGER: ["billing.view_payment", "billing.view_all_payment", "billing.export_payment", "billing.view_refund"],
        SALES: ["billing.view_payment", "billing.view_refund"],
    }
)
# receivables, statements and dunning
_grant(
    {
        FINANCE: [
            "billing.view_receivables",
            "billing.export_invoice",
            "billing.view_customerstatement",
            "billing.send_customerstatement",
            "billing.view_paymentreminder",
            "billing.view_dunninglevel",
            "billing.change_dunninglevel",
            "billing.view_credithold",
            "billing.release_credithold",
        ],
        MANAGER: [
            "billing.view_receivables",
            "billing.view_customerstatement",
            "billing.view_paymentreminder",
            "billing.view_dunninglevel",
            "billing.change_dunninglevel",
            "billing.view_credithold",
        ],
    }
)

# billing: bank statements and reconciliation
_grant(
    {
        FINANCE: [
            "billing.view_bankstatement",
            "billing.add_bankstatement",
            "billing.reconcile_bankstatementline",
            "billing.view_bankaccount",
            "billing.add_bankaccount",
            "billing.change_bankaccount",
            "billing.view_bankfilemapping",
            "billing.add_bankfilemapping",
            "billing.change_bankfilemapping",
        ],
        MANAGER: ["billing.view_bankstatement", "billing.view_bankaccount"],
    }
)


# api (channel intake)
_grant({MANAGER: ["api.view_apiclient", "api.add_apiclient", "api.revoke_apiclient"]})


# webhooks (events out): managers register endpoints, read the delivery log and replay
_grant(
    {
        MANAGER: [
            "webhooks.view_webhookendpoint",
            "webhooks.add_webhookendpoint",
            "webhooks.change_webhookendpoint",
            "webhooks.delete_webhookendpoint",
            "webhooks.replay_webhookendpoint",
        ]
    }
)


# reports: managers read everything, everyone's figures; sales their own sales, customers and orders at risk;
# warehouse the stock and cycle times; finance the receivables; reviewers the review report.
_grant(
    {
        MANAGER: [
            "reports.view_reports",
            "reports.view_all_figures",
            "reports.view_sales_report",
            "reports.view_margin_report",
            "reports.view_cycle_report",
            "reports.view_stock_report",
            "reports.view_receivables_report",
            "reports.view_customer_report",
            "reports.view_review_report",
            "reports.view_risk_queue",
            "reports.change_risk_limits",
        ],
        SALES: ["reports.view_sales_report", "reports.view_customer_report", "reports.view_risk_queue"],
        WAREHOUSE: ["reports.view_stock_report", "reports.view_cycle_report"],
        FINANCE: ["reports.view_receivables_report"],
        REVIEWER: ["reports.view_review_report"],
    }
)
# The nightly report: managers read the archive (reports.view_reports) and start a failed day again.
_grant({MANAGER: ["reports.run_nightlyreport"]})


# --- end of per-app grants ---


def sync_roles(group_model, permission_model) -> None:
    """Create each role's group and give it exactly the permissions listed above."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        wanted = []
        for name in perm_names:
            app_label, codename = name.split(".", 1)
            wanted.extend(permission_model.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def sync_roles_after_migrate(sender, using="default", verbosity=0, **kwargs) -> None:
    """After migrate: make sure every app's permissions exist, then give them to the roles."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    if sender.name != "config":  # once per migrate run is enough
        return
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_roles(Group, Permission)
