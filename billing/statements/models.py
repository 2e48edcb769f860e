"""Customer statements (对账单): a customer's account for a period, sent for the customer to confirm
or dispute through an unguessable link; the figures are kept as they were when the statement was made."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.money import ZERO, equal_to_the_cent
from config.timeline import TimelineEvent

SEND_STATEMENT_PERMISSION = "billing.send_customerstatement"


class StatementState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    CONFIRMED = "confirmed", _("Confirmed")
    DISPUTED = "disputed", _("Disputed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


S = StatementState
LIVE_STATES = [S.DRAFT, S.SENT, S.CONFIRMED, S.DISPUTED]


def statement_pdf_path(statement: CustomerStatement, filename: str) -> str:
    return f"billing/statements/{statement.period_end:%Y/%m}/{filename}"


def _money(label) -> models.DecimalField:
    return models.DecimalField(label, max_digits=14, decimal_places=2, default=ZERO)


# The closing balance a statement's movements lead to.
_MOVED = F("opening_balance") + F("invoiced") - F("credited") - F("paid") + F("refunded") - F("written_off")


class CustomerStatement(FSMModelMixin, models.Model):
    """One customer's account for one period: opening balance, invoices, credit notes and payments
    of the period, closing balance, delivered goods not yet invoiced and the ageing of what is open."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="statements", verbose_name=_("customer")
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    state = StateField(_("state"), max_length=10, choices=StatementState.choices, default=S.DRAFT, protected=True, db_index=True)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    opening_balance = _money(_("opening balance"))
    invoiced = _money(_("invoiced"))
    credited = _money(_("credited"))
    paid = _money(_("paid"))
    # Money paid back to the customer (debit), and small differences written off (credit: short
    # payments forgiven, less debit: overpayments kept), each net for the period.
    refunded = _money(_("refunded"))
    written_off = _money(_("written off"))
    closing_balance = _money(_("closing balance"))
    delivered_not_invoiced = _money(_("delivered, not invoiced"))
    # What the statement lists, as it was when made; amounts as strings (JSON has no decimals).
    # entries: [{"date", "kind": invoice|credit_note|payment, "number", "due_date", "debit", "credit"}]
    entries = models.JSONField(_("entries"), default=list, blank=True)
    # uninvoiced: [{"order", "position", "description", "quantity", "amount"}]
    uninvoiced = models.JSONField(_("delivered, not invoiced"), default=list, blank=True)
    # ageing: [{"key", "first", "last", "amount"}] on the period's last day
    ageing = models.JSONField(_("ageing"), default=list, blank=True)
    email = models.EmailField(_("sent to"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    customer_comment = models.TextField(_("customer's comment"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to=statement_pdf_path, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        app_label = "billing"
        verbose_name = _("customer statement")
        verbose_name_plural = _("customer statements")
        ordering = ["-period_end", "-pk"]
        permissions = [
            ("send_customerstatement", _("Can make and send customer statements")),
            ("view_receivables", _("Can see every customer's receivables and their ageing")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(period_start__lte=F("period_end")), name="statement_period_in_order"),
            models.CheckConstraint(
                condition=equal_to_the_cent("closing_balance", _MOVED),
                name="statement_balances_reconcile",
            ),
            # One live statement per customer and period (a withdrawn one may be made again).
            models.UniqueConstraint(
                fields=["customer", "period_start", "period_end"],
                condition=Q(state__in=LIVE_STATES),
                name="one_live_statement_per_customer_period",
            ),
            models.CheckConstraint(
                condition=~Q(state=S.DISPUTED) | ~Q(customer_comment=""), name="statement_dispute_has_comment"
            ),
        ]
        indexes = [models.Index(fields=["customer", "-period_end"], name="statement_customer_period")]

    def __str__(self) -> str:
        return gettext("Statement %(customer)s %(start)s – %(end)s") % {
            "customer": self.customer.code if self.customer_id else "",
            "start": f"{self.period_start:%Y-%m-%d}",
            "end": f"{self.period_end:%Y-%m-%d}",
        }

    def get_absolute_url(self) -> str:
        return reverse("billing:statement_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.customer.name} · {self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"

    # --- transitions: fired only through config.transitions.transition_apply (services) ---------
    TRANSITION_LABELS = {
        "send": _("send"),
        "confirm": _("confirm"),
        "dispute": _("dispute"),
        "withdraw": _("withdraw"),
    }

    @property
    def timeline_event_model(self) -> type[StatementEvent]:
        return StatementEvent

    @transition(field=state, source=S.DRAFT, target=S.SENT, permission=SEND_STATEMENT_PERMISSION)
    def send(self) -> None:
        """The statement goes to the customer with the link where they confirm or dispute it."""
        self.sent_at = timezone.now()

    @transition(field=state, source=S.SENT, target=S.CONFIRMED)
    def confirm(self) -> None:
        """The customer agrees with the statement (through its link; once)."""
        self.responded_at = timezone.now()

    @transition(field=state, source=S.SENT, target=S.DISPUTED)
    def dispute(self) -> None:
        """The customer disagrees, saying why (through its link; once); finance looks into it."""
        self.responded_at = timezone.now()

    @transition(field=state, source=[S.DRAFT, S.SENT, S.DISPUTED], target=S.WITHDRAWN, permission=SEND_STATEMENT_PERMISSION)
    def withdraw(self) -> None:
        """Finance takes the statement back (e.g. to send a corrected one); its link stops working."""


class StatementToken(models.Model):
    """The unguessable token of a statement's public page; it answers once and can be revoked."""

    statement = models.OneToOneField(
        CustomerStatement, on_delete=models.CASCADE, related_name="token", verbose_name=_("statement")
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    used_at = models.DateTimeField(_("answered"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        app_label = "billing"
        verbose_name = _("statement link")
        verbose_name_plural = _("statement links")

    def __str__(self) -> str:
        return f"{self.statement_id}"


def _email_text(params: dict) -> str:
    return gettext("Statement e-mailed to %(email)s.") % {"email": params["email"]}


class StatementEvent(TimelineEvent):
    """The statement's timeline: made, sent, e-mailed, confirmed or disputed by the customer, withdrawn."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Made")
        SEND = "send", _("Sent")
        EMAIL = "email", _("E-mail sent")
        CONFIRM = "confirm", _("Confirmed by the customer")
        DISPUTE = "dispute", _("Disputed by the customer")
        WITHDRAW = "withdraw", _("Withdrawn")
        LINK_REVOKED = "link_revoked", _("Link revoked")

    SUBJECT_FIELD = "statement"
    STATES = dict(StatementState.choices)
    WORDING = {
        Kind.CREATED: lambda p: gettext("Made by the monthly run.") if p.get("monthly") else "",
        Kind.EMAIL: _email_text,
        Kind.CONFIRM: lambda p: gettext("Answered through the statement link."),
        Kind.DISPUTE: lambda p: gettext("Answered through the statement link."),
    }

    statement = models.ForeignKey(CustomerStatement, on_delete=models.CASCADE, related_name="events", verbose_name=_("statement"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        app_label = "billing"
        verbose_name = _("statement event")
        verbose_name_plural = _("statement events")
        ordering = ["at", "pk"]


# Dunning's models register with the billing app through this module too (billing/models.py imports it).
from billing.dunning.models import CreditHold, DunningLevel, LetterKind, PaymentReminder, PaymentReminderLine  # noqa: E402

__all__ = [
    "CreditHold",
    "CustomerStatement",
    "DunningLevel",
    "LetterKind",
    "PaymentReminder",
    "PaymentReminderLine",
    "StatementEvent",
    "StatementState",
    "StatementToken",
]
