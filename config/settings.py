"""Settings for the sales order management system, read from the environment.

With no DATABASE_URL the app runs on a SQLite file; with no REDIS_URL Celery runs tasks
eagerly in the process. Production sets both (see README.md, "Configuration").
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEBUG = env_bool("DEBUG", False)
# Under pytest (or TESTING=1): plain static storage, no collectstatic needed.
TESTING = env_bool("TESTING", "pytest" in sys.modules)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under VAR_DIR."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        pass
    try:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
    except OSError as exc:  # read-only file system and no SECRET_KEY: refuse to guess
        raise ImproperlyConfigured("Set SECRET_KEY in the environment.") from exc


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "django_fsm",
    "axes",
    "config",
    "customers",
    "inventory",
    "orders",
    "logistics",
    "billing",
    "api",
    "webhooks",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.http_limits.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.http_limits.PrivatePagesNoStoreMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "config.urls"
# An order form posts four fields a line; large orders (up to 1,000 lines) must fit.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
# A body declaring more is refused with 413 before it is read (config.http_limits); imports take 5 MB files.
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", 6 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # form fields, files excepted
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger files go to a temporary file
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
                "config.notification_views.unread_notifications",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    # The statements config.rows sends on every order or request (parameters bound on the server) are prepared
    # from their fifth run on a connection, so PostgreSQL plans them once per connection: for the order path,
    # planning cost more than running. The ORM's own statements are never prepared (Django binds them in the
    # client). A pooler between app and database must keep prepared statements (PgBouncer 1.21 or newer with
    # max_prepared_statements set); DB_PREPARED_STATEMENTS=0 turns them off for any other.
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("DB_PREPARED_STATEMENTS", True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # IMMEDIATE: every transaction takes the write lock at BEGIN, so writes stay serialized.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
# Reports may read from a replica of this database (streaming replication): with DATABASE_REPLICA_URL set,
# the reads of the apps in REPLICA_READ_APPS go there (config.database_routers); writes always go to the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests read what they wrote
REPLICA_READ_APPS = ["reports"]
DATABASE_ROUTERS = ["config.database_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, sessions, celery ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if TESTING:  # test processes (xdist workers, other checkouts) share the Redis: each keeps its own keys
    CACHES["default"]["KEY_PREFIX"] = f"test{os.getpid()}"

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it ends, so one whose worker dies (OOM killer, deploy) runs again:
# every task here is idempotent (the outbox dispatcher, the sweeper, the checks, allocation).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis hands an unacknowledged task to another worker after this many seconds (its default is an hour).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300)}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "config.tasks.worker_heartbeat", "schedule": 60.0},
}
# Apps add their scheduled work here; the keys are stable names, so beat keeps one entry each.
CELERY_BEAT_SCHEDULE.update(
    {
        "stock-ledger-check": {"task": "inventory.tasks.verify_stock_ledger", "schedule": crontab(hour=2, minute=0)},
        "low-stock-scan": {"task": "inventory.tasks.scan_low_stock", "schedule": crontab(minute="*/30")},
        # The outbox's safety net: events whose after-commit dispatch was lost are carried out here.
        "outbox-dispatch": {"task": "config.tasks.dispatch_outbox", "schedule": env_int("OUTBOX_DISPATCH_SECONDS", 5)},
        "sweep-stuck-orders": {"task": "orders.tasks.sweep_stuck_orders", "schedule": 60.0},
        # One-time form tokens (config.submissions) are kept two days, then forgotten.
        "delete-expired-submissions": {
            "task": "config.submissions.delete_expired_submissions",
            "schedule": crontab(hour=3, minute=30),
        },
        # An "allocate all" run whose worker died or whose message was lost goes on.
        "resume-bulk-allocations": {"task": "orders.fulfilment.resume_bulk_allocations", "schedule": 60.0},
    }
)
# Orders waiting longer than this in `submitted` or `approved` are picked up again by the sweeper.
STUCK_ORDER_MINUTES = env_int("STUCK_ORDER_MINUTES", 5)

# Reads a lower app needs from a higher one, named here so the import points down (DESIGN.md).
# What waiting orders are short of, per product (inventory's replenishment proposal reads it).
STOCK_DEMAND_PROVIDER = "orders.fulfilment.selectors.backorder_shortfall"
# The customer's overdue invoices for the review's overdue rule; billing sets it once it exists.
OVERDUE_INVOICES_PROVIDER = os.environ.get("OVERDUE_INVOICES_PROVIDER", "")
# The customer's open receivables less advances, for the credit exposure (orders.credit); billing sets it.
RECEIVABLES_PROVIDER = ""
# The customer's order lines already invoiced in advance (a prepayment invoice): the credit exposure
# counts them in the receivables (or not at all once paid), not as approved and not yet invoiced.
PREPAID_ORDER_LINES_PROVIDER = ""

# Carrier tracking pushes: no secret configured means every push is refused (401).
KUAIDI100_SALT = os.environ.get("KUAIDI100_SALT", "")
AFTERSHIP_WEBHOOK_SECRET = os.environ.get("AFTERSHIP_WEBHOOK_SECRET", "")

# Sections higher apps add to the customer 360 page: provider(*, customer, user) -> CustomerPanel | None.
CUSTOMER_PAGE_PANELS = ["orders.customer_panel.customer_orders_panel"]
# Sections higher apps add to the order page: provider(*, order, user) -> customers.types.CustomerPanel | None.
ORDER_PAGE_PANELS = ["logistics.order_panel.order_shipments_panel"]
# Work queues on the home page: provider(user) -> list[config.home.WorkQueue], only what the user may see.
HOME_QUEUE_PROVIDERS = [
    "orders.selectors.home_queues",
    "inventory.stock.selectors.home_queues",
    "customers.selectors.home_queues",
    "logistics.selectors.home_queues",
]
# Figures beside the queues (the few numbers a role watches): provider(user) -> list[config.home.HomeFigure],
# only what the user may see, read from snapshots or small tables (the home page is opened all day).
HOME_FIGURE_PROVIDERS: list[str] = []
# Each app seeds its own demo data, in this order (later ones use what earlier ones made).
DEMO_SEEDERS = [
    "customers.demo.seed",
    "inventory.catalog.demo.seed",
    "inventory.stock.demo.seed",
    "orders.demo.seed",
    "logistics.demo.seed",
    "inventory.stock.demo.seed_after_orders",
    "inventory.counts.demo.seed",
]

# Outbox handlers, registered explicitly: topic -> dotted paths of functions taking the payload.
# Transition topics are "<app>.<model>.<transition>"; others are named by the app that publishes them.
OUTBOX_HANDLERS: dict[str, list[str]] = {
    "orders.salesorder.submit": ["orders.review.handlers.run_checks"],
    "orders.salesorder.pass_checks": ["orders.fulfilment.handlers.allocate", "orders.review.handlers.confirm_to_customer"],
    "orders.salesorder.flag_for_review": ["orders.review.handlers.ask_reviewers"],
    "orders.salesorder.approve": [
        "orders.fulfilment.handlers.allocate",
        "orders.review.handlers.tell_salesperson",
        "orders.review.handlers.confirm_to_customer",
    ],
    "orders.salesorder.reject": ["orders.review.handlers.tell_salesperson"],
    "inventory.stock_available": ["orders.fulfilment.handlers.allocate_waiting"],
    "inventory.reservations_released": ["orders.fulfilment.handlers.reservations_lost"],
}
HEARTBEAT_STALE_SECONDS = env_int("HEARTBEAT_STALE_SECONDS", 180)


def _subscribe(handlers: dict[str, list[str]]) -> None:
    """Add handlers to OUTBOX_HANDLERS; several apps may listen to the same topic."""
    for topic, paths in handlers.items():
        OUTBOX_HANDLERS.setdefault(topic, []).extend(paths)


# --- per-app wiring: each app adds its outbox handlers, schedules, panels, queues and demo data in its own block ---

# logistics
_subscribe({"logistics.shipment.ship": ["logistics.shipments.handlers.email_customer_shipped"]})
# Delivery exceptions: the salesperson hears of each one; a delivery settles the open ones.
_subscribe(
    {
        "logistics.shipment_exception_opened": ["logistics.exceptions.handlers.notify_salesperson"],
        "logistics.shipment.deliver": ["logistics.exceptions.handlers.settle_delivered"],
    }
)
CELERY_BEAT_SCHEDULE.update(
    {"watch-deliveries": {"task": "logistics.exceptions.watch_deliveries", "schedule": crontab(minute=10)}}
)
# An exception open longer than this many days is escalated to the managers (once).
DELIVERY_EXCEPTION_ESCALATE_DAYS = env_int("DELIVERY_EXCEPTION_ESCALATE_DAYS", 3)
HOME_QUEUE_PROVIDERS += ["logistics.exceptions.selectors.home_queues"]
ORDER_PAGE_PANELS += ["logistics.exceptions.selectors.order_exceptions_panel"]
CUSTOMER_PAGE_PANELS += ["logistics.exceptions.selectors.customer_exceptions_panel"]
DEMO_SEEDERS.insert(DEMO_SEEDERS.index("logistics.demo.seed") + 1, "logistics.exceptions.demo.seed")
# Returns: a refund asked for on receipt is told to finance in the app (billing subscribes to the same topic).
_subscribe({"logistics.return_refund_requested": ["logistics.returns.handlers.tell_finance_refund_requested"]})
HOME_QUEUE_PROVIDERS += ["logistics.returns.panels.home_queues"]
ORDER_PAGE_PANELS += ["logistics.returns.panels.order_returns_panel"]
CUSTOMER_PAGE_PANELS += ["logistics.returns.panels.customer_returns_panel"]
DEMO_SEEDERS += ["logistics.returns.demo.seed"]


# billing
# Due dates: the customer's payment terms in days from the issue date, or (true) from the end of that month.
BILLING_TERMS_END_OF_MONTH = os.environ.get("BILLING_TERMS_END_OF_MONTH", "") in ("1", "true", "yes")
_subscribe(
    {
        "billing.invoice.issue": ["billing.handlers.store_invoice_pdf", "billing.handlers.email_invoice"],
        "billing.creditnote.issue": ["billing.handlers.store_credit_note_pdf", "billing.handlers.email_credit_note"],
        "logistics.return_refund_requested": ["billing.handlers.draft_credit_note_for_return"],
        "logistics.exception_refund_requested": ["billing.handlers.draft_credit_note_for_delivery_exception"],
    }
)
ORDER_PAGE_PANELS += ["billing.order_panel.order_invoices_panel"]
HOME_QUEUE_PROVIDERS += ["billing.order_panel.home_queues"]
DEMO_SEEDERS += ["billing.demo.seed"]

# payments: allocations, write-offs, refunds, acceptance bills; the orders' payment status
PAYMENT_WRITE_OFF_LIMIT = Decimal(os.environ.get("PAYMENT_WRITE_OFF_LIMIT", "1.00"))
RECEIVABLES_PROVIDER = "billing.payments.selectors.customer_open_receivables"
PREPAID_ORDER_LINES_PROVIDER = "billing.selectors.order_lines_on_prepayment_invoices"
CUSTOMER_PAGE_PANELS += ["billing.payments.customer_panel.customer_payments_panel"]
ORDER_PAGE_PANELS += ["billing.payments.order_panel.order_payments_panel"]
HOME_QUEUE_PROVIDERS += ["billing.payments.selectors.home_queues"]
_subscribe(
    {
        "billing.invoice.issue": ["billing.payments.handlers.refresh_payment_status"],
        "billing.creditnote.issue": ["billing.payments.handlers.refresh_payment_status_of_credit_note"],
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        # Orders whose invoices fell due yesterday become overdue.
        "payment-status-overdue": {"task": "billing.payments.tasks.mark_overdue_orders", "schedule": crontab(hour=0, minute=20)},
    }
)
DEMO_SEEDERS += ["billing.payments.demo.seed"]

# bank statements: import (camt.053, MT940, bank CSV/XLSX) and reconciliation with invoices
# Lines that pay invoices exactly (number in the memo and amount, or a known payer and amount) become payments at once.
BANK_AUTO_APPLY_EXACT = env_bool("BANK_AUTO_APPLY_EXACT", True)
# Up to this many are applied (in bulk) while the upload waits; a larger batch is applied by a worker.
BANK_AUTO_APPLY_INLINE = env_int("BANK_AUTO_APPLY_INLINE", 2000)
CELERY_BEAT_SCHEDULE.update(
    {"bank-resume-exact-matches": {"task": "billing.bank.resume_exact_matches", "schedule": crontab(minute="*/10")}}
)
# A bank file larger than this is refused (the upload page is also bound by REQUEST_MAX_BODY_BYTES).
BANK_IMPORT_MAX_BYTES = env_int("BANK_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
HOME_QUEUE_PROVIDERS += ["billing.bank.selectors.home_queues"]
DEMO_SEEDERS += ["billing.bank.demo.seed"]
# receivables, statements and dunning (its demo seeder after the other billing areas': it uses their data)
# Ageing buckets: the last day past due of each bucket after "current" (30,60,90: 1–30, 31–60, 61–90, > 90).
AR_AGEING_BUCKETS = tuple(int(days) for days in env_list("AR_AGEING_BUCKETS", "30,60,90"))
# The customer's statement page (/billing/s/<token>/): pages per address and minute.
STATEMENT_PAGE_RATE_LIMIT = env_int("STATEMENT_PAGE_RATE_LIMIT", 30)
# The review's overdue rule reads invoices through dunning, which counts every overdue invoice of a customer on
# credit hold.
OVERDUE_INVOICES_PROVIDER = os.environ.get("OVERDUE_INVOICES_PROVIDER") or "billing.dunning.selectors.overdue_invoices_for_review"
_subscribe(
    {
        "billing.customerstatement.send": ["billing.statements.handlers.email_statement"],
        "billing.payment_reminder_created": ["billing.dunning.handlers.email_reminder"],
        # Money in (a payment, its allocation) or a credit note may settle what held a customer's credit.
        "billing.payment_received": ["billing.dunning.handlers.release_paid_holds"],
        "billing.payment_allocated": ["billing.dunning.handlers.release_paid_holds"],
        "billing.creditnote.issue": ["billing.dunning.handlers.release_paid_holds"],
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        "dunning-run": {"task": "billing.dunning.tasks.run_dunning", "schedule": crontab(hour=7, minute=0)},
        "monthly-statements": {
            "task": "billing.statements.tasks.send_monthly_statements",
            "schedule": crontab(day_of_month=1, hour=6, minute=0),
        },
    }
)
HOME_QUEUE_PROVIDERS += ["billing.statements.home.home_queues"]
CUSTOMER_PAGE_PANELS += ["billing.statements.customer_panel.customer_statements_panel"]
DEMO_SEEDERS += ["billing.statements.demo.seed"]


# api (channel intake)
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # signed-in staff (CSRF checked on writes)
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ActorHasPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_PROXY", False) else 0),
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sales order management: channel API",
    "DESCRIPTION": (
        "Orders from web shops, marketplaces and phone systems, exactly once: a token per channel client "
        "(Authorization: Bearer), an Idempotency-Key on every POST, one order per channel and external_ref. "
        'Every refusal answers {"error": {"code", "message", "fields", "lines"}}.'
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "ChannelEnum": "orders.models.Channel",
        "ShipmentStateEnum": "logistics.models.ShipmentState",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# A retry with the same Idempotency-Key replays the first answer for this long (never under a day).
API_IDEMPOTENCY_KEEP_HOURS = env_int("API_IDEMPOTENCY_KEEP_HOURS", 48)
# A retry arriving while the first request with its key still runs waits this long for it, then answers 409.
API_IDEMPOTENCY_WAIT_SECONDS = float(os.environ.get("API_IDEMPOTENCY_WAIT_SECONDS", "10"))
# Signed-in staff on the API, and calls without credentials, per minute (clients have their own limit).
API_USER_RATE_PER_MINUTE = env_int("API_USER_RATE_PER_MINUTE", 600)
API_ANON_RATE_PER_MINUTE = env_int("API_ANON_RATE_PER_MINUTE", 120)
CELERY_BEAT_SCHEDULE.update(
    {"delete-expired-idempotency-keys": {"task": "api.tasks.delete_expired_idempotency_keys", "schedule": crontab(minute=15)}}
)
DEMO_SEEDERS += ["api.demo.seed"]


# webhooks (events out): business events become signed POSTs to the endpoints managers register.
_subscribe(
    {
        topic: ["webhooks.handlers.record_event"]
        for topic in [
            "orders.salesorder.submit",
            "orders.salesorder.pass_checks",
            "orders.salesorder.approve",
            "orders.salesorder.reject",
            "orders.salesorder.close_short",
            "orders.salesorder.deliver",
            "orders.salesorder.cancel",
            "logistics.shipment.ship",
            "logistics.shipment_exception_opened",
            "billing.invoice.issue",
            "billing.payment_received",
            "inventory.low_stock",
        ]
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        # Deliveries due now (first tries and retries); a recorded event also asks for it at once.
        "webhooks-deliver": {"task": "webhooks.tasks.deliver_webhooks", "schedule": env_int("WEBHOOKS_DELIVER_SECONDS", 5)},
        "webhooks-forget-old": {"task": "webhooks.tasks.forget_old_deliveries", "schedule": crontab(hour=4, minute=10)},
    }
)
DEMO_SEEDERS += ["webhooks.demo.seed"]
# Loopback and private addresses (10.x, 172.16-31.x, 192.168.x, fc00::/7, 100.64/10) may receive webhooks only
# when this is on; link-local and cloud metadata addresses never do.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False)
# Hosts that may be sent plain http (everything else must be https).
WEBHOOKS_HTTP_HOSTS = env_list("WEBHOOKS_HTTP_HOSTS", "")
# Receivers' TLS certificates are checked against the public CAs, or against this bundle (a company CA) when set.
WEBHOOKS_CA_BUNDLE = os.environ.get("WEBHOOKS_CA_BUNDLE", "")
WEBHOOKS_CONNECT_TIMEOUT = env_int("WEBHOOKS_CONNECT_TIMEOUT", 3)
# Requests a sender has in flight at once (to different orders or subjects: one subject's events go one by one).
WEBHOOKS_SEND_CONCURRENCY = env_int("WEBHOOKS_SEND_CONCURRENCY", 8)
WEBHOOKS_READ_TIMEOUT = env_int("WEBHOOKS_READ_TIMEOUT", 5)
# A failing delivery is retried with exponential backoff (from BASE up to MAX seconds, with jitter) for this long.
WEBHOOKS_RETRY_HOURS = max(env_int("WEBHOOKS_RETRY_HOURS", 24), 24)
WEBHOOKS_RETRY_BASE_SECONDS = env_int("WEBHOOKS_RETRY_BASE_SECONDS", 10)
WEBHOOKS_RETRY_MAX_SECONDS = env_int("WEBHOOKS_RETRY_MAX_SECONDS", 3600)
# After this many failed attempts in a row an endpoint is disabled (its events are kept) and managers are told.
WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("WEBHOOKS_DISABLE_AFTER_FAILURES", 20)
# A worker's claim on the deliveries it sends; one that dies leaves them to be sent again after this.
WEBHOOKS_LEASE_SECONDS = env_int("WEBHOOKS_LEASE_SECONDS", 120)
# How long one run of the sender goes on before it leaves the rest to the next run.
WEBHOOKS_SEND_SECONDS = env_int("WEBHOOKS_SEND_SECONDS", 30)
WEBHOOKS_SECRET_GRACE_HOURS = env_int("WEBHOOKS_SECRET_GRACE_HOURS", 24)
WEBHOOKS_KEEP_DAYS = env_int("WEBHOOKS_KEEP_DAYS", 30)


# reports
# The figures managers and each role see on their home page, beside the queues.
HOME_FIGURE_PROVIDERS += ["reports.dashboard.home.home_figures"]


# The snapshots' nightly runs (01:00-01:40) in full: every sales and margin fact and every order cycle computed
# afresh and compared, every stock snapshot row checked against the ledger, only what differs rewritten. Off, they
# compute again what changed since the last run and a slice of all orders (the sales facts in full on Sundays), and
# check the stock snapshot's last days; the customer and receivables snapshots are rebuilt in full either way.
REPORTS_NIGHTLY_FULL = env_bool("REPORTS_NIGHTLY_FULL", True)


def daily_at(value: str, setting: str) -> crontab:
    """A beat schedule for every day at a local time written HH:MM."""
    try:
        hour, minute = (int(part) for part in value.strip().split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting} must be a time of day as HH:MM, not {value!r}") from exc
    return crontab(hour=hour, minute=minute)


# The nightly manager report (yesterday, the month to date, orders at risk, stock alerts, overdue receivables),
# made and e-mailed to every manager at this local time (CELERY_TIMEZONE), after the snapshots' nightly rebuild.
NIGHTLY_REPORT_TIME = os.environ.get("NIGHTLY_REPORT_TIME", "06:30")
# A failed run is tried again this many times, first after RETRY_SECONDS, doubling up to RETRY_MAX_SECONDS;
# when the last one fails the managers are told in the app.
NIGHTLY_REPORT_RETRIES = env_int("NIGHTLY_REPORT_RETRIES", 6)
NIGHTLY_REPORT_RETRY_SECONDS = env_int("NIGHTLY_REPORT_RETRY_SECONDS", 120)
NIGHTLY_REPORT_RETRY_MAX_SECONDS = env_int("NIGHTLY_REPORT_RETRY_MAX_SECONDS", 3600)
CELERY_BEAT_SCHEDULE.update(
    {
        "nightly-report": {
            "task": "reports.nightly.send_nightly_report",
            "schedule": daily_at(NIGHTLY_REPORT_TIME, "NIGHTLY_REPORT_TIME"),
        }
    }
)

# Report rows refreshed in batches (reports.dirty): an event only marks the order (or customer) in each report area
# that follows it; every REPORTS_BATCH_SECONDS a beat task (with no broker: the process that marks) refreshes each
# area's marked keys at once. 0 refreshes at once, in the event's handler (what the tests use).
REPORTS_BATCH_SECONDS = env_int("REPORTS_BATCH_SECONDS", 0 if TESTING else 30)
# area (also its snapshot's name) -> its refresher (called with the marked keys), the key it keeps (an order's id, or
# its customer's) and the order transitions after which an order is marked (one handler, reports.dirty.order_changed).
REPORTS_BATCHED_AREAS: dict[str, dict] = {}
CELERY_BEAT_SCHEDULE.update(
    {"reports-refresh-dirty": {"task": "reports.refresh_dirty", "schedule": float(REPORTS_BATCH_SECONDS or 30)}}
)

# Sales facts (reports.sales): each event that changes an order's sales or margin marks it; rebuilt nightly.
REPORTS_BATCHED_AREAS["sales"] = {
    "refresh": "reports.sales.handlers.refresh_orders",
    "key": "order",
    "order_transitions": ["pass_checks", "approve", "allocate", "backorder", "cancel", "close_short"],
}
_subscribe(
    {
        "logistics.shipment.ship": ["reports.sales.handlers.refresh_shipment_order"],
        "logistics.returnrequest.receive": ["reports.sales.handlers.refresh_return_order"],
        "inventory.reservations_released": ["reports.sales.handlers.refresh_orders_of_lines"],
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        "sales-facts-rebuild": {
            "task": "reports.sales.tasks.rebuild_sales_facts",
            "schedule": crontab(hour=1, minute=15),
            "kwargs": {"full": REPORTS_NIGHTLY_FULL},
        }
    }
)
DEMO_SEEDERS += ["reports.sales.demo.seed"]

# reports.customers: the per-customer snapshot (refreshed after the customer's order, complaint and return
# events, rebuilt nightly), RFM segments, and the segment on the customer page.
# A customer whose first order is at most this many days old is in the "new" segment.
NEW_CUSTOMER_DAYS = env_int("NEW_CUSTOMER_DAYS", 90)
REPORTS_BATCHED_AREAS["customers"] = {
    "refresh": "reports.customers.handlers.refresh_customers",
    "key": "customer",
    "order_transitions": ["submit", "pass_checks", "approve", "reject", "cancel", "ship_rest", "close_short"],
}
_subscribe(
    {
        **{
            topic: ["reports.customers.handlers.refresh_for_complaint"]
            for topic in ["customers.complaint_opened", "customers.complaint.resolve", "customers.complaint.reopen"]
        },
        "logistics.returnrequest.approve": ["reports.customers.handlers.refresh_for_return"],
        "logistics.returnrequest.reject": ["reports.customers.handlers.refresh_for_return"],
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        "reports-customer-snapshot": {
            "task": "reports.customers.tasks.rebuild_customer_snapshot",
            "schedule": crontab(hour=1, minute=10),
        }
    }
)
CUSTOMER_PAGE_PANELS += ["reports.customers.panels.customer_segment_panel"]
DEMO_SEEDERS += ["reports.customers.demo.seed"]

# Order cycles (reports.cycles): every move of an order, and what changes its shipments' exceptions or its
# invoices' balance, marks it for a refresh of its cycle rows; the whole snapshot is rebuilt nightly.
REPORTS_BATCHED_AREAS["cycles"] = {
    "refresh": "reports.cycles.handlers.refresh_orders",
    "key": "order",
    "order_transitions": [
        "submit",
        "pass_checks",
        "flag_for_review",
        "approve",
        "reject",
        "reopen",
        "allocate",
        "backorder",
        "ship_part",
        "ship_rest",
        "deliver",
        "complete",
        "cancel",
        "close_short",
    ],
}
_subscribe(
    {
        "logistics.shipment_exception_opened": ["reports.cycles.handlers.refresh_exception_order"],
        "logistics.deliveryexception.resolve": ["reports.cycles.handlers.refresh_exception_order"],
        "billing.invoice.issue": ["reports.cycles.handlers.refresh_invoice_orders"],
        "billing.creditnote.issue": ["reports.cycles.handlers.refresh_credit_note_orders"],
        "billing.payment_received": ["reports.cycles.handlers.refresh_paid_orders"],
        "billing.payment_allocated": ["reports.cycles.handlers.refresh_paid_orders"],
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        "reports-cycles-rebuild": {
            "task": "reports.cycles.rebuild",
            "schedule": crontab(hour=1, minute=40),
            "kwargs": {"full": REPORTS_NIGHTLY_FULL},
        }
    }
)
# Managers' and salespeople's homes list the orders at risk (each salesperson their own).
HOME_QUEUE_PROVIDERS += ["reports.cycles.selectors.home_queues"]
DEMO_SEEDERS += ["reports.cycles.demo.seed"]


# reports.stock and reports.receivables: the daily stock snapshot follows the ledger's movements, is reconciled with
# the stock rows every few minutes (reserved stock changes without a movement) and checked against the ledger nightly;
# the receivables snapshot takes today's row from billing's ageing after billing events and every few minutes, and
# every day again nightly (both before the nightly report).
_subscribe({"inventory.stock_moved": ["reports.stock.handlers.refresh_after_movements"]})
_subscribe(
    {
        topic: ["reports.receivables.handlers.refresh_after_billing_event"]
        for topic in ["billing.invoice.issue", "billing.creditnote.issue"]
    }
)
_subscribe(
    {
        topic: ["reports.receivables.handlers.refresh_after_payment"]
        for topic in ["billing.payment_received", "billing.payment_allocated", "billing.payment.void"]
    }
)
CELERY_BEAT_SCHEDULE.update(
    {
        "reports-stock-reconcile": {"task": "reports.stock.reconcile", "schedule": crontab(minute="*/10")},
        "reports-stock-rebuild": {
            "task": "reports.stock.rebuild",
            "schedule": crontab(hour=1, minute=0),
            "kwargs": {"full": REPORTS_NIGHTLY_FULL},
        },
        "reports-receivables-refresh": {"task": "reports.receivables.refresh", "schedule": crontab(minute="*/2")},
        "reports-receivables-rebuild": {"task": "reports.receivables.rebuild", "schedule": crontab(hour=1, minute=20)},
    }
)
# The stock report's default thresholds (a reader may change them on the page): no shipment for this many days is
# dead stock; stock lasting longer than this many days at the period's rate of shipping is a slow mover.
REPORTS_DEAD_STOCK_DAYS = env_int("REPORTS_DEAD_STOCK_DAYS", 90)
REPORTS_SLOW_MOVER_COVER_DAYS = env_int("REPORTS_SLOW_MOVER_COVER_DAYS", 180)
# After billing events today's open receivables (one aggregate over every open invoice) are read at most this often.
REPORTS_RECEIVABLES_AGEING_SECONDS = env_int("REPORTS_RECEIVABLES_AGEING_SECONDS", 60)
DEMO_SEEDERS += ["reports.stock.demo.seed"]  # after every seeder that moves stock or bills


# Every order transition a batched report area follows is handled once, by the handler that marks it in all of them.
_subscribe(
    {
        f"orders.salesorder.{transition}": ["reports.dirty.order_changed"]
        for transition in sorted({t for area in REPORTS_BATCHED_AREAS.values() for t in area["order_transitions"]})
    }
)

# --- end of per-app wiring ---

# --- auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:  # a real hash costs half a second per test user
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Log-in throttling (django-axes), app and admin alike: after AXES_FAILURE_LIMIT failures a user name,
# and separately an address, is locked out for AXES_COOLOFF_MINUTES; every lockout is logged.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "config.auth_backends.ModelBackendOneRead"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS: list[str] = []  # the log names the user and address; passwords are always masked
AXES_LOCKOUT_CALLABLE = "config.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.login_throttle.client_ip"
# Behind proxies the client's address is the X-Forwarded-For entry this many hops from the right.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_PROXY", False) else 0)

# --- internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Amounts in Chinese pages grouped by thousands (1,234.56) as finance documents write them (config/formats).
FORMAT_MODULE_PATH = ["config.formats"]
# django-filter's own empty choice is "---------"; ours is worded in the reader's language.
FILTERS_EMPTY_CHOICE_LABEL = _("Any")
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
CURRENCY = os.environ.get("CURRENCY", "CNY")
DEFAULT_TAX_RATE = Decimal(os.environ.get("DEFAULT_TAX_RATE", "0.13"))
# The credit limit a customer entered by sales starts with (0: every order on credit goes to review);
# finance sets the real limit.
DEFAULT_CREDIT_LIMIT = Decimal(os.environ.get("DEFAULT_CREDIT_LIMIT", "0"))

# --- documents: the letterhead printed on every PDF (config/documents.py) ----------------------
COMPANY_NAME = os.environ.get("COMPANY_NAME", "示例商贸有限公司 Example Trading Co., Ltd.")
COMPANY_ADDRESS = os.environ.get("COMPANY_ADDRESS", "上海市浦东新区示例路 1 号 No. 1 Example Road, Pudong, Shanghai")
COMPANY_PHONE = os.environ.get("COMPANY_PHONE", "+86 21 0000 0000")
COMPANY_EMAIL = os.environ.get("COMPANY_EMAIL", "")
COMPANY_TAX_ID = os.environ.get("COMPANY_TAX_ID", "")  # 统一社会信用代码 (unified social credit code)
COMPANY_BANK_NAME = os.environ.get("COMPANY_BANK_NAME", "")
COMPANY_BANK_ACCOUNT = os.environ.get("COMPANY_BANK_ACCOUNT", "")

# --- static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# --- email ---------------------------------------------------------------------------------
# With EMAIL_HOST set, mail goes out over SMTP; without it, it is printed to the console.
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": env_int("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "use_ssl": env_bool("EMAIL_USE_SSL", False),
                "timeout": env_int("EMAIL_TIMEOUT", 20),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "orders@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security ---------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read with a statement built once (config/sessions.py).
SESSION_ENGINE = "config.sessions"
# Django's message storage, keeping the latest messages not yet shown (config/messages.py).
MESSAGE_STORAGE = "config.messages.RecentMessagesStorage"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Behind a TLS-terminating proxy (docker-compose, a load balancer) trust its header.
    if env_bool("BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors_without_traceback": {"()": "config.logs.ClientErrorsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" a console handler of its own under DEBUG, which with
        # the root's printed every record twice; everything goes through the root's handler once.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["client_errors_without_traceback"], "propagate": True},
        # Eager tasks (no Redis) would log a "succeeded" line each; failures still show.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        # django-axes: failed log-ins and lockouts are warnings; its per-request housekeeping is not logged.
        "axes": {"level": "WARNING"},
    },
}

# Without collectstatic (development, tests) whitenoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
