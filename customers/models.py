from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.timeline import TimelineEvent

from .events import display_change


class Customer(models.Model):
    """A company or person the business sells to, with its credit terms."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    class Rating(models.TextChoices):
        A = "A", _("A (excellent)")
        B = "B", _("B (good)")
        C = "C", _("C (watch)")
        D = "D", _("D (poor)")

    class Segment(models.TextChoices):
        WHOLESALE = "wholesale", _("Wholesale")
        RETAIL = "retail", _("Retail")
        DISTRIBUTOR = "distributor", _("Distributor")
        KEY_ACCOUNT = "key_account", _("Key account")
        OTHER = "other", _("Other")

    code = models.CharField(_("code"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    alt_name = models.CharField(
        _("other name"), max_length=200, blank=True, help_text=_("Name in another script, e.g. English or pinyin.")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    tax_id = models.CharField(_("tax ID"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="zh-hans",
        help_text=_("Language of the emails the customer receives."),
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    credit_rating = models.CharField(_("credit rating"), max_length=1, choices=Rating.choices, default=Rating.B)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    # Payment before shipping (款到发货): orders are invoiced in advance with a prepayment invoice.
    prepayment_required = models.BooleanField(
        _("pays before shipping"),
        default=False,
        help_text=_("Payment terms of prepayment: an approved order is invoiced before it ships (prepayment invoice)."),
    )
    is_blocked = models.BooleanField(_("blocked"), default=False)
    blocked_reason = models.CharField(_("reason for block"), max_length=300, blank=True)
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices, default=Segment.WHOLESALE)
    tags = models.CharField(_("tags"), max_length=300, blank=True, help_text=_("Comma-separated."))
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        permissions = [
            ("import_customer", _("Can import customers")),
            ("export_customer", _("Can export customers")),
            ("block_customer", _("Can block and unblock customers")),
            ("change_credit_terms", _("Can change credit limit, rating and payment terms")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"),
            models.CheckConstraint(condition=Q(is_blocked=False) | ~Q(blocked_reason=""), name="customer_block_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]


class Address(models.Model):
    """A billing or shipping address of a customer; one default per kind."""

    class Kind(models.TextChoices):
        BILLING = "billing", _("Billing")
        SHIPPING = "shipping", _("Shipping")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SHIPPING)
    recipient = models.CharField(_("recipient"), max_length=120)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    line1 = models.CharField(_("street address"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=80)
    province = models.CharField(_("province / state"), max_length=80, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CN")
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(is_default=True), name="one_default_address_per_kind"
            )
        ]

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self) -> str:
        parts = [self.recipient, self.phone, self.province, self.city, self.line1, self.line2, self.postal_code]
        return ", ".join(p for p in parts if p)


class Contact(models.Model):
    """A person to speak to at a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(_("title"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name


def _credit_request_sentence(params: dict) -> str:
    """ "Asked for credit limit: 50000.00; credit rating: A (excellent)", worded in the reader's language."""
    rows = [display_change(Customer, {"field": name, "new": value}) for name, value in params["values"].items()]
    return gettext("Asked for %(values)s") % {"values": "; ".join(f"{row['label']}: {row['new']}" for row in rows)}


# The letters of billing's dunning levels, as its reminders on this timeline name them.
REMINDER_LETTERS = {
    "friendly": _("Friendly reminder"),
    "firm": _("Firm reminder"),
    "final": _("Final notice"),
}


def _reminder_sentence(params: dict) -> str:
    """ "Firm reminder: 3 overdue invoices, 12,000.00 CNY open.", worded in the reader's language."""
    letter = REMINDER_LETTERS.get(params["letter"], params["letter"])
    return ngettext(
        "%(letter)s: %(count)s overdue invoice, %(amount)s %(currency)s open.",
        "%(letter)s: %(count)s overdue invoices, %(amount)s %(currency)s open.",
        params["count"],
    ) % {"letter": letter, "count": params["count"], "amount": params["amount"], "currency": params.get("currency", "")}


class CustomerEvent(TimelineEvent):
    """The customer's timeline: who changed what and when, field by field, and why.

    Complaint events land here too (with `complaint` set); from/to are complaint states.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        IMPORTED = "imported", _("Imported")
        BLOCKED = "blocked", _("Blocked")
        UNBLOCKED = "unblocked", _("Unblocked")
        ADDRESS_ADDED = "address_added", _("Address added")
        ADDRESS_CHANGED = "address_changed", _("Address changed")
        ADDRESS_REMOVED = "address_removed", _("Address removed")
        CONTACT_ADDED = "contact_added", _("Contact added")
        CONTACT_CHANGED = "contact_changed", _("Contact changed")
        CONTACT_REMOVED = "contact_removed", _("Contact removed")
        COMPLAINT_OPENED = "complaint_opened", _("Complaint opened")
        COMPLAINT_CHANGED = "complaint_changed", _("Complaint changed")
        COMPLAINT_STATE = "complaint_state", _("Complaint status change")
        CREDIT_REQUEST = "credit_request", _("Credit change request")
        PAYMENT_REMINDER = "payment_reminder", _("Payment reminder")
        CREDIT_HOLD = "credit_hold", _("Put on credit hold")
        CREDIT_HOLD_RELEASED = "credit_hold_released", _("Credit hold released")

    SUBJECT_FIELD = "customer"
    # Worded when shown, in the reader's language; addresses, names and subjects are data.
    WORDING = {
        Kind.CREATED: lambda p: gettext("Entered with an order.") if p.get("via") == "order" else "",
        Kind.IMPORTED: lambda p: gettext("Imported from %(file)s.") % {"file": p["file"]},
        Kind.ADDRESS_ADDED: lambda p: p["address"],
        Kind.ADDRESS_CHANGED: lambda p: p["address"],
        Kind.ADDRESS_REMOVED: lambda p: p["address"],
        Kind.CONTACT_ADDED: lambda p: p["contact"],
        Kind.CONTACT_CHANGED: lambda p: p["contact"],
        Kind.CONTACT_REMOVED: lambda p: p["contact"],
        Kind.COMPLAINT_OPENED: lambda p: p["subject"],
        Kind.EDITED: lambda p: (
            gettext("Credit change requested by %(requester)s, approved.") % {"requester": p["requester"]}
            if p.get("credit_request")
            else ""
        ),
        Kind.CREDIT_REQUEST: lambda p: _credit_request_sentence(p),
        Kind.PAYMENT_REMINDER: lambda p: _reminder_sentence(p),
        Kind.CREDIT_HOLD: lambda p: gettext("New orders go to review until the overdue invoices are paid."),
        Kind.CREDIT_HOLD_RELEASED: lambda p: (
            gettext("The overdue invoices are paid.") if p.get("because") == "paid" else gettext("Released by finance.")
        ),
    }

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events", verbose_name=_("customer"))
    complaint = models.ForeignKey(
        "Complaint", on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("complaint")
    )
    credit_request = models.ForeignKey(
        "CreditChangeRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("credit change request"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # [{"field": name, "old": value, "new": value}], values as stored (choice keys, not labels).
    changes = models.JSONField(_("changes"), default=list, blank=True)

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def build(cls, subject: models.Model, **kwargs: Any) -> CustomerEvent:
        """An event about a customer, or about one of its complaints or credit change requests (on that customer's timeline)."""
        if isinstance(subject, Complaint):
            kwargs.setdefault("complaint", subject)
            subject = subject.customer
        elif isinstance(subject, CreditChangeRequest):
            kwargs.setdefault("credit_request", subject)
            subject = subject.customer
        return super().build(subject, **kwargs)

    SUBJECT_MODELS = {
        Kind.ADDRESS_ADDED: "Address",
        Kind.ADDRESS_CHANGED: "Address",
        Kind.ADDRESS_REMOVED: "Address",
        Kind.CONTACT_ADDED: "Contact",
        Kind.CONTACT_CHANGED: "Contact",
        Kind.CONTACT_REMOVED: "Contact",
        Kind.COMPLAINT_OPENED: "Complaint",
        Kind.COMPLAINT_CHANGED: "Complaint",
        Kind.COMPLAINT_STATE: "Complaint",
    }

    # Kinds whose changes list only the new values (there was nothing before).
    ADDED_KINDS = {Kind.CREATED, Kind.ADDRESS_ADDED, Kind.CONTACT_ADDED}

    @property
    def lists_new_values_only(self) -> bool:
        return self.kind in self.ADDED_KINDS

    def change_rows(self) -> list[dict]:
        """The changes with translated field labels and choice labels, ready for a template."""
        model = globals()[self.SUBJECT_MODELS.get(self.kind, "Customer")]
        return [display_change(model, change) for change in self.changes or []]


class Complaint(FSMModelMixin, models.Model):
    """A customer's complaint, worked from open to closed; resolving it needs a written resolution."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Category(models.TextChoices):
        QUALITY = "quality", _("Product quality")
        DAMAGED = "damaged", _("Damaged in transit")
        WRONG_ITEM = "wrong_item", _("Wrong or missing item")
        LATE = "late", _("Late delivery")
        BILLING = "billing", _("Billing")
        SERVICE = "service", _("Service")
        OTHER = "other", _("Other")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("customer"))
    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("order"),
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.QUALITY)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_complaints",
        verbose_name=_("assigned to"),
    )
    state = StateField(_("status"), max_length=20, choices=State.choices, default=State.OPEN, protected=True, db_index=True)
    resolution = models.TextField(_("resolution"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    created_at = models.DateTimeField(_("opened"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("work started"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopened_at = models.DateTimeField(_("reopened"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["open", "in_progress"]) | ~Q(resolution=""), name="complaint_resolved_has_resolution"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("customers:complaint_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.number} · {self.customer.name} · {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.OPEN, self.State.IN_PROGRESS)

    def has_resolution(self) -> bool:
        return bool(self.resolution.strip())

    @property
    def is_editable(self) -> bool:
        """A closed complaint is reopened before anything about it changes."""
        return self.state != self.State.CLOSED

    # --- transitions: fired only through config.transitions.transition_apply ---------------------
    TRANSITION_LABELS = {
        "start": _("start work"),
        "resolve": _("resolve"),
        "close": _("close"),
        "reopen": _("reopen"),
    }

    @property
    def timeline_event_model(self) -> type[CustomerEvent]:
        return CustomerEvent

    def transition_problems(self, name: str) -> list[str]:
        """Why a transition the state allows cannot run yet, for the user."""
        if name == "resolve" and not self.has_resolution():
            return [gettext("Write down how the complaint was resolved.")]
        return []

    @transition(field=state, source=State.OPEN, target=State.IN_PROGRESS, permission="customers.change_complaint")
    def start(self) -> None:
        """Someone works on the complaint."""
        self.started_at = timezone.now()

    @transition(
        field=state,
        source=State.IN_PROGRESS,
        target=State.RESOLVED,
        conditions=[has_resolution],
        permission="customers.change_complaint",
    )
    def resolve(self) -> None:
        """The complaint is answered; the resolution says how."""
        self.resolved_at = timezone.now()

    @transition(field=state, source=State.RESOLVED, target=State.CLOSED, permission="customers.change_complaint")
    def close(self) -> None:
        """The customer accepted the resolution (or stopped answering): nothing more to do."""
        self.closed_at = timezone.now()

    @transition(field=state, source=[State.RESOLVED, State.CLOSED], target=State.OPEN, permission="customers.change_complaint")
    def reopen(self) -> None:
        """The customer is not satisfied after all: the complaint is worked again, its resolution kept as a draft."""
        self.reopened_at = timezone.now()
        self.resolved_at = None
        self.closed_at = None


class CreditChangeRequest(FSMModelMixin, models.Model):
    """A salesperson asks for other credit terms; finance (or a manager) approves or rejects the request.

    Approval applies the requested values to the customer as the approving user, on the customer's timeline.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Waiting for finance")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_requests", verbose_name=_("customer"))
    credit_limit = models.DecimalField(
        _("requested credit limit"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    credit_rating = models.CharField(_("requested credit rating"), max_length=1, choices=Customer.Rating.choices, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(_("requested payment terms (days)"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    state = StateField(_("status"), max_length=20, choices=State.choices, default=State.DRAFT, protected=True, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # The customer fields a request may change, in the order they are shown.
    FIELDS = ("credit_limit", "credit_rating", "payment_terms_days")

    class Meta:
        verbose_name = _("credit change request")
        verbose_name_plural = _("credit change requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=False) | ~Q(credit_rating="") | Q(payment_terms_days__isnull=False),
                name="credit_request_asks_for_something",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Credit change for %(customer)s") % {"customer": self.customer.name}

    def get_absolute_url(self) -> str:
        return reverse("customers:credit_request_list") + f"#request-{self.pk}"

    @property
    def queue_label(self) -> str:
        return f"{self.customer.name} · {self.requested_values_text()}"

    def requested_values(self) -> dict[str, Any]:
        """The customer fields this request changes, with the values asked for."""
        values = {name: getattr(self, name) for name in self.FIELDS}
        return {name: value for name, value in values.items() if value not in (None, "")}

    def requested_rows(self) -> list[dict]:
        """The values asked for beside the customer's current ones, with labels in the reader's language."""
        return [
            display_change(Customer, {"field": name, "old": getattr(self.customer, name), "new": value})
            for name, value in self.requested_values().items()
        ]

    def requested_values_text(self) -> str:
        return "; ".join(f"{row['label']}: {row['new']}" for row in self.requested_rows())

    # --- transitions: fired only through config.transitions.transition_apply ---------------------
    TRANSITION_LABELS = {
        "submit": _("submit"),
        "approve": _("approve"),
        "reject": _("reject"),
    }

    @property
    def timeline_event_model(self) -> type[CustomerEvent]:
        return CustomerEvent

    @transition(field=state, source=State.DRAFT, target=State.PENDING, permission="customers.change_customer")
    def submit(self) -> None:
        """The request goes to finance's queue."""
        self.requested_at = timezone.now()

    @transition(field=state, source=State.PENDING, target=State.APPROVED, permission="customers.change_credit_terms")
    def approve(self) -> None:
        """Finance agrees: the requested values are applied to the customer."""
        self.decided_at = timezone.now()

    @transition(field=state, source=State.PENDING, target=State.REJECTED, permission="customers.change_credit_terms")
    def reject(self) -> None:
        """Finance declines, saying why; the customer keeps its terms."""
        self.decided_at = timezone.now()


OPEN_COMPLAINT_STATES = [Complaint.State.OPEN, Complaint.State.IN_PROGRESS]
# The timeline's from/to are complaint or credit request states (the customer itself has none; the keys differ).
CustomerEvent.STATES = {**dict(Complaint.State.choices), **dict(CreditChangeRequest.State.choices)}
