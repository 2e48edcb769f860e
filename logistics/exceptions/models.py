"""Delivery exceptions (配送异常): a shipment that is late, lost, damaged, refused or coming back,
recorded with how it was found and since when, worked until it is resolved with an outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.timeline import TimelineEvent
from logistics.models import EXCEPTION_PERMISSION, ShipmentEvent


class ExceptionKind(models.TextChoices):
    LATE = "late", _("Late")
    LOST = "lost", _("Lost")
    DAMAGED = "damaged", _("Damaged")
    REFUSED = "refused", _("Refused by the customer")
    RETURNING = "returning", _("Returning to sender")
    PROBLEM = "problem", _("Carrier problem")


class DetectedBy(models.TextChoices):
    BEAT = "beat", _("Late check")
    TRACKING = "tracking", _("Carrier tracking")
    HAND = "hand", _("Reported by hand")


class ExceptionOutcome(models.TextChoices):
    RESHIP = "reship", _("Re-shipped")
    REFUND = "refund", _("Refund or credit requested")
    CLOSE = "close", _("Closed with a note")
    DELIVERED = "delivered", _("Delivered after all")


class ExceptionState(models.TextChoices):
    OPEN = "open", pgettext_lazy("delivery exception state", "Open")
    RESOLVED = "resolved", _("Resolved")


class DeliveryException(FSMModelMixin, models.Model):
    """Something went wrong with a shipment after it left; open until someone resolves it with an outcome."""

    shipment = models.ForeignKey(
        "logistics.Shipment", on_delete=models.PROTECT, related_name="exceptions", verbose_name=_("shipment")
    )
    order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.PROTECT, related_name="delivery_exceptions", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ExceptionKind.choices)
    detected_by = models.CharField(_("detected by"), max_length=10, choices=DetectedBy.choices)
    since = models.DateTimeField(_("since"))
    state = StateField(_("state"), max_length=10, choices=ExceptionState.choices, default=ExceptionState.OPEN, protected=True)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True, db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("opened by")
    )
    tracking_event = models.ForeignKey(
        "logistics.TrackingEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tracking event"),
    )
    note = models.TextField(_("note"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=ExceptionOutcome.choices, blank=True)
    # What the outcome covers: [[order line id, SKU, units], ...] (re-shipped or to refund).
    lines = models.JSONField(_("lines"), default=list, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery exception")
        verbose_name_plural = _("delivery exceptions")
        ordering = ["-opened_at", "-pk"]
        permissions = [("resolve_deliveryexception", _("Can report and resolve delivery exceptions"))]
        constraints = [
            # A shipment has at most one open exception of each kind (a replayed push opens nothing new).
            models.UniqueConstraint(
                fields=["shipment", "kind"], condition=Q(state="open"), name="delivery_exception_one_open_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(state="open", outcome="") | (Q(state="resolved") & ~Q(outcome="") & Q(resolved_at__isnull=False)),
                name="delivery_exception_resolved_has_outcome",
            ),
        ]
        indexes = [models.Index(fields=["state", "opened_at"], name="delivery_exception_open")]

    def __str__(self) -> str:
        return f"{self.shipment} · {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("logistics:exception_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.shipment.number} · {self.order.number} · {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.state == ExceptionState.OPEN

    @property
    def customer_text(self):
        """What the customer's tracking page says while it is open: plain words, nothing internal
        (worded lazily, in the language the page is rendered in)."""
        return CUSTOMER_WORDS.get(self.kind, CUSTOMER_WORDS[ExceptionKind.PROBLEM])

    # --- transitions: fired only through config.transitions.transition_apply ---------------------
    TRANSITION_LABELS = {"resolve": _("resolve")}

    @property
    def timeline_event_model(self) -> type[DeliveryExceptionEvent]:
        return DeliveryExceptionEvent

    def has_outcome(self) -> bool:
        return bool(self.outcome)

    def transition_problems(self, name: str) -> list[str]:
        if name == "resolve" and not self.has_outcome():
            return [gettext("Choose how the exception is resolved.")]
        return []

    @transition(field=state, source=ExceptionState.OPEN, target=ExceptionState.RESOLVED, conditions=[has_outcome],
                permission=EXCEPTION_PERMISSION)  # fmt: skip
    def resolve(self) -> None:
        """Re-shipped, refund requested, closed with a note, or delivered after all: the exception is settled."""
        self.resolved_at = timezone.now()


CUSTOMER_WORDS = {
    ExceptionKind.LATE: _("This delivery is taking longer than expected. We are looking into it with the carrier."),
    ExceptionKind.LOST: _("There is a problem with this delivery. We are looking into it and will contact you."),
    ExceptionKind.DAMAGED: _("We were told the goods may have been damaged. We are looking into it and will contact you."),
    ExceptionKind.REFUSED: _("The delivery was not accepted. We will contact you about what happens next."),
    ExceptionKind.RETURNING: _("The carrier is bringing this delivery back to us. We will contact you about what happens next."),
    ExceptionKind.PROBLEM: _("The carrier reported a problem with this delivery. We are looking into it."),
}


def _opened_text(params: dict) -> str:
    kinds = dict(ExceptionKind.choices)
    how = dict(DetectedBy.choices)
    return gettext("Opened: %(kind)s (%(how)s).") % {
        "kind": kinds.get(params["kind"], params["kind"]),
        "how": how.get(params.get("how", ""), params.get("how", "")),
    }


def _resolved_text(params: dict) -> str:
    outcomes = dict(ExceptionOutcome.choices)
    text = gettext("Resolved: %(outcome)s.") % {"outcome": outcomes.get(params["outcome"], params["outcome"])}
    if params.get("shipments"):
        text += " " + gettext("New shipment %(numbers)s.") % {"numbers": ", ".join(params["shipments"])}
    if params.get("lines"):
        text += " " + ", ".join(f"{sku} × {qty}" for _line, sku, qty in params["lines"])
    return text


class DeliveryExceptionEvent(TimelineEvent):
    """The exception's timeline: opened, escalated, resolved."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        ESCALATED = "escalated", _("Escalated to managers")
        RESOLVE = "resolve", _("Resolved")

    SUBJECT_FIELD = "exception"
    STATES = dict(ExceptionState.choices)
    WORDING = {
        Kind.OPENED: _opened_text,
        Kind.ESCALATED: lambda p: gettext("Open for more than %(days)s days: managers were told.") % {"days": p["days"]},
        Kind.RESOLVE: _resolved_text,
    }

    exception = models.ForeignKey(
        DeliveryException, on_delete=models.CASCADE, related_name="events", verbose_name=_("delivery exception")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("delivery exception event")
        verbose_name_plural = _("delivery exception events")
        ordering = ["at", "pk"]


# The shipment's own timeline words its exception events with these kinds and outcomes.
ShipmentEvent.WORDING[ShipmentEvent.Kind.EXCEPTION] = lambda p: (
    gettext("Delivery exception: %(kind)s.") % {"kind": dict(ExceptionKind.choices).get(p["kind"], p["kind"])}
)
ShipmentEvent.WORDING[ShipmentEvent.Kind.EXCEPTION_SETTLED] = lambda p: (
    gettext("Delivery exception settled: %(outcome)s.")
    % {"outcome": dict(ExceptionOutcome.choices).get(p["outcome"], p["outcome"])}
)
