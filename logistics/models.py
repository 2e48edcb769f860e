"""Shipments (发货单): what leaves a warehouse for one order, picked, packed into parcels and handed
to a carrier with one waybill number per parcel; carriers and their tracking links."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.money import ZERO
from config.timeline import TimelineEvent

SHIP_PERMISSION = "logistics.ship_shipment"
EXCEPTION_PERMISSION = "logistics.resolve_deliveryexception"


class Carrier(models.Model):
    """A carrier (快递公司); its code is the one the big tracking aggregators use (shunfeng, zhongtong…)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    tracking_url_template = models.CharField(
        _("tracking URL template"), max_length=300, blank=True, help_text=_("Use {number} where the waybill number goes.")
    )
    transit_days = models.PositiveSmallIntegerField(_("usual transit days"), default=3)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tracking_url_template="") | Q(tracking_url_template__contains="{number}"),
                name="carrier_tracking_template_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def tracking_url(self, number: str) -> str:
        """The carrier's own tracking page for a waybill number (empty when it has none)."""
        if not self.tracking_url_template or not number:
            return ""
        return self.tracking_url_template.replace("{number}", number)


class ShipmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned")
    LOST = "lost", _("Lost")
    CANCELLED = "cancelled", _("Cancelled")


S = ShipmentState
# Before the goods leave: nothing is consumed yet, the shipment may still be cancelled.
BEFORE_SHIPPING = [S.DRAFT, S.PICKING, S.PACKED]


def _every_line_packed(shipment: Shipment) -> bool:
    return not shipment.lines.filter(quantity_packed__lt=F("quantity")).exists()


def _every_parcel_weighed(shipment: Shipment) -> bool:
    parcels = shipment.parcels.all()
    return parcels.exists() and not parcels.filter(weight_kg__isnull=True).exists()


def _every_parcel_has_a_waybill(shipment: Shipment) -> bool:
    return shipment.carrier_id is not None and not shipment.parcels.filter(waybill_number="").exists()


class Shipment(FSMModelMixin, models.Model):
    """Goods of one order leaving one warehouse: drafted, picked, packed in parcels, shipped."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    order = models.ForeignKey("orders.SalesOrder", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order"))
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("warehouse")
    )
    state = StateField(_("state"), max_length=12, choices=ShipmentState.choices, default=S.DRAFT, protected=True, db_index=True)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="shipments", verbose_name=_("carrier")
    )
    service = models.CharField(_("service"), max_length=60, blank=True)
    eta = models.DateField(_("expected delivery"), null=True, blank=True)
    insured_value = models.DecimalField(_("insured value"), max_digits=14, decimal_places=2, default=ZERO)
    cod_amount = models.DecimalField(_("cash on delivery"), max_digits=14, decimal_places=2, default=ZERO)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    unit_count = models.PositiveIntegerField(_("units"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    picking_started_at = models.DateTimeField(_("picking started"), null=True, blank=True)
    packed_at = models.DateTimeField(_("packed"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # A re-shipment of goods a delivery exception lost or spoiled: it ships from stock without
    # counting as more shipped on the order's lines.
    replacement_for = models.ForeignKey(
        "logistics.DeliveryException",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacements",
        verbose_name=_("replacement for"),
    )
    # A replacement for returned goods: shipping it changes no order line, it only takes the stock.
    replaces = models.ForeignKey(
        "logistics.ReturnRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacement_shipments",
        verbose_name=_("replacement for return"),
    )

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("ship_shipment", _("Can pick, pack and ship shipments")),
            ("export_shipment", _("Can export shipments")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(insured_value__gte=0) & Q(cod_amount__gte=0), name="shipment_amounts_not_negative"
            ),
        ]
        # The warehouse home's queues, in the order they are read: the few rows of one state, without sorting
        # every shipment ever shipped (partial: only the rows in that state are in them).
        indexes = [
            models.Index(fields=["eta", "shipped_at", "id"], condition=Q(state=S.SHIPPED), name="shipment_on_the_way"),
            models.Index(fields=["packed_at", "id"], condition=Q(state=S.PACKED), name="shipment_packed_queue"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("logistics:shipment_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.number} · {self.order.number}"

    # --- transitions: fired only through config.transitions.transition_apply (services) ---------
    TRANSITION_LABELS = {
        "start_picking": _("start picking"),
        "pack": _("pack"),
        "ship": _("ship"),
        "cancel": _("cancel"),
        "deliver": _("confirm delivery"),
        "report_exception": _("report a delivery exception"),
        "clear_exception": _("resume the delivery"),
        "mark_returned": _("mark returned"),
        "write_off": _("write off as lost"),
    }

    @property
    def timeline_event_model(self) -> type[ShipmentEvent]:
        return ShipmentEvent

    def transition_problems(self, name: str) -> list[str]:
        """Why a transition the state allows is refused now, in the user's words."""
        problems = []
        if name == "pack":
            if not _every_line_packed(self):
                problems.append(gettext("Not every picked unit of %(number)s is packed yet.") % {"number": self.number})
            if not _every_parcel_weighed(self):
                problems.append(gettext("Every parcel needs a weight."))
        if name == "ship" and not _every_parcel_has_a_waybill(self):
            problems.append(gettext("Choose a carrier and give every parcel a waybill number."))
        return problems

    @transition(field=state, source=S.DRAFT, target=S.PICKING, permission=SHIP_PERMISSION)
    def start_picking(self) -> None:
        """The pick list is printed and the picker is on the way."""
        self.picking_started_at = timezone.now()

    @transition(
        field=state,
        source=S.PICKING,
        target=S.PACKED,
        conditions=[_every_line_packed, _every_parcel_weighed],
        permission=SHIP_PERMISSION,
    )
    def pack(self) -> None:
        """Every unit was scanned into a parcel and every parcel weighed."""
        self.packed_at = timezone.now()

    @transition(
        field=state, source=S.PACKED, target=S.SHIPPED, conditions=[_every_parcel_has_a_waybill], permission=SHIP_PERMISSION
    )
    def ship(self) -> None:
        """The carrier took the parcels, each with its own waybill number; the order's stock is consumed."""
        self.shipped_at = timezone.now()

    @transition(field=state, source=[S.SHIPPED, S.EXCEPTION], target=S.DELIVERED, permission=SHIP_PERMISSION)
    def deliver(self) -> None:
        """Every parcel was signed for (tracking), or the warehouse confirmed the delivery by hand."""
        self.delivered_at = timezone.now()

    @transition(field=state, source=BEFORE_SHIPPING, target=S.CANCELLED, permission=SHIP_PERMISSION)
    def cancel(self) -> None:
        """Before it ships a shipment may be abandoned; its goods stay reserved for the order."""
        self.cancelled_at = timezone.now()

    # Delivery exceptions (logistics.exceptions): the shipment waits in `exception` while one is open.
    @transition(field=state, source=S.SHIPPED, target=S.EXCEPTION, permission=EXCEPTION_PERMISSION)
    def report_exception(self) -> None:
        """Late, lost, damaged, refused or returning: the shipment needs someone's attention."""

    @transition(field=state, source=S.EXCEPTION, target=S.SHIPPED, permission=EXCEPTION_PERMISSION)
    def clear_exception(self) -> None:
        """Every exception is settled and the goods are still on their way."""

    @transition(field=state, source=S.EXCEPTION, target=S.RETURNED, permission=EXCEPTION_PERMISSION)
    def mark_returned(self) -> None:
        """The customer refused the goods or the carrier sends them back to us."""

    @transition(field=state, source=S.EXCEPTION, target=S.LOST, permission=EXCEPTION_PERMISSION)
    def write_off(self) -> None:
        """The goods will not arrive: re-shipped, refunded or given up."""


class ShipmentLine(models.Model):
    """Units of one order line in the shipment: planned (picked) and packed (scanned into parcels)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("shipment"))
    order_line = models.ForeignKey(
        "orders.SalesOrderLine", on_delete=models.PROTECT, related_name="shipment_lines", verbose_name=_("order line")
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="shipment_lines", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity to pick"))
    quantity_packed = models.PositiveIntegerField(_("packed"), default=0)
    # The ledger's cost of each unit when the shipment left (its shipment movement's), kept with the line so the margin
    # reports read it without joining the ledger; None before it left, or when the ledger kept no cost.
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_packed__gte=0) & Q(quantity_packed__lte=F("quantity")),
                name="shipment_line_packed_within_picked",
            ),
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipment_line_once_per_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.quantity} × {self.product_id}"

    @property
    def quantity_to_pack(self) -> int:
        return self.quantity - self.quantity_packed


class Parcel(models.Model):
    """One box of a shipment, i of n, with its own weight and waybill number."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="parcels", verbose_name=_("shipment"))
    index = models.PositiveSmallIntegerField(_("parcel"))
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=8, decimal_places=3, null=True, blank=True)
    length_cm = models.PositiveIntegerField(_("length (cm)"), null=True, blank=True)
    width_cm = models.PositiveIntegerField(_("width (cm)"), null=True, blank=True)
    height_cm = models.PositiveIntegerField(_("height (cm)"), null=True, blank=True)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="parcels", verbose_name=_("carrier")
    )
    waybill_number = models.CharField(_("waybill number"), max_length=40, blank=True, db_index=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        ordering = ["shipment", "index"]
        constraints = [
            models.CheckConstraint(condition=Q(index__gte=1), name="parcel_index_positive"),
            models.CheckConstraint(condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0), name="parcel_weight_positive"),
            models.CheckConstraint(
                condition=(Q(length_cm__isnull=True) | Q(length_cm__gt=0))
                & (Q(width_cm__isnull=True) | Q(width_cm__gt=0))
                & (Q(height_cm__isnull=True) | Q(height_cm__gt=0)),
                name="parcel_dimensions_positive",
            ),
            models.CheckConstraint(condition=Q(waybill_number="") | Q(carrier__isnull=False), name="parcel_waybill_has_carrier"),
            models.UniqueConstraint(fields=["shipment", "index"], name="parcel_index_unique"),
            models.UniqueConstraint(
                fields=["carrier", "waybill_number"], condition=~Q(waybill_number=""), name="parcel_waybill_unique_per_carrier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} #{self.index}"

    @property
    def tracking_url(self) -> str:
        return self.carrier.tracking_url(self.waybill_number) if self.carrier_id else ""


class ParcelItem(models.Model):
    """Units of one shipment line packed into one parcel (what the packing slip lists)."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="items", verbose_name=_("parcel"))
    line = models.ForeignKey(ShipmentLine, on_delete=models.CASCADE, related_name="parcel_items", verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("parcel item")
        verbose_name_plural = _("parcel items")
        ordering = ["parcel", "line"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="parcel_item_quantity_positive"),
            models.UniqueConstraint(fields=["parcel", "line"], name="parcel_item_once_per_line"),
        ]

    def __str__(self) -> str:
        return f"{self.parcel_id}: {self.quantity} × {self.line_id}"


def _created_text(params: dict) -> str:
    return ngettext(
        "Created for order %(order)s with %(units)s unit to pick.",
        "Created for order %(order)s with %(units)s units to pick.",
        params["units"],
    ) % {"order": params["order"], "units": params["units"]}


def _pack_text(params: dict) -> str:
    return ngettext("Packed in %(parcels)s parcel.", "Packed in %(parcels)s parcels.", params["parcels"]) % {
        "parcels": params["parcels"]
    }


def _ship_text(params: dict) -> str:
    return gettext("Handed to %(carrier)s, waybill numbers %(waybills)s.") % {
        "carrier": params["carrier"],
        "waybills": ", ".join(params["waybills"]),
    }


class ShipmentEvent(TimelineEvent):
    """The shipment's timeline: created, picking, packed, shipped, cancelled, e-mails sent."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        START_PICKING = "start_picking", _("Picking started")
        PACK = "pack", _("Packed")
        SHIP = "ship", _("Shipped")
        CANCEL = "cancel", _("Cancelled")
        DELIVER = "deliver", _("Delivered")
        EMAIL = "email", _("E-mail sent")
        EXCEPTION = "exception", _("Delivery exception")
        EXCEPTION_SETTLED = "exception_settled", _("Delivery exception settled")

    SUBJECT_FIELD = "shipment"
    STATES = dict(ShipmentState.choices)
    WORDING = {
        Kind.CREATED: _created_text,
        Kind.PACK: _pack_text,
        Kind.SHIP: _ship_text,
        Kind.DELIVER: lambda p: (
            gettext("Every parcel was signed for.") if p.get("how") == "tracking" else gettext("Delivery confirmed by hand.")
        ),
        Kind.EMAIL: lambda p: gettext("“Shipped” e-mail sent to %(email)s.") % {"email": p["email"]},
    }

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events", verbose_name=_("shipment"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("shipment event")
        verbose_name_plural = _("shipment events")
        ordering = ["at", "pk"]


class TrackingStatus(models.TextChoices):
    COLLECTED = "collected", _("Collected by the carrier")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    PROBLEM = "problem", _("Problem")
    REFUSED = "refused", _("Refused")
    RETURNING = "returning", _("Returning to sender")
    CUSTOMS = "customs", _("In customs")
    FORWARDED = "forwarded", _("Forwarded")


class TrackingSource(models.TextChoices):
    KUAIDI100 = "kuaidi100", _("Kuaidi100 push")
    AFTERSHIP = "aftership", _("AfterShip push")
    IMPORT = "import", _("Import")
    MANUAL = "manual", _("Entered by hand")


def description_digest(description: str) -> str:
    """The same description always gives the same key (the unique key cannot index long text)."""
    return hashlib.sha256((description or "").strip().encode()).hexdigest()


class TrackingEvent(models.Model):
    """One scan of a parcel reported by the carrier; the same event reported twice is stored once."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="tracking_events", verbose_name=_("parcel"))
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="tracking_events", verbose_name=_("shipment"))
    time = models.DateTimeField(_("time"), db_index=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=TrackingStatus.choices)
    description = models.TextField(_("description"), blank=True)
    description_hash = models.CharField(max_length=64, editable=False)
    source = models.CharField(_("source"), max_length=12, choices=TrackingSource.choices)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["time", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel", "time", "status", "description_hash"], name="tracking_event_once_per_parcel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parcel_id} {self.time:%Y-%m-%d %H:%M} {self.status}"


class UnmatchedOutcome(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to a parcel")
    DISMISSED = "dismissed", _("Dismissed")


class UnmatchedTrackingEvent(models.Model):
    """A pushed event for a waybill number we do not know, kept aside for review (carriers retry on errors)."""

    carrier_code = models.CharField(_("carrier code"), max_length=30, blank=True)
    waybill_number = models.CharField(_("waybill number"), max_length=60, db_index=True)
    time = models.DateTimeField(_("time"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=TrackingStatus.choices)
    description = models.TextField(_("description"), blank=True)
    description_hash = models.CharField(max_length=64, editable=False)
    source = models.CharField(_("source"), max_length=12, choices=TrackingSource.choices)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=UnmatchedOutcome.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    parcel = models.ForeignKey(
        Parcel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("assigned to parcel")
    )

    class Meta:
        verbose_name = _("unmatched tracking event")
        verbose_name_plural = _("unmatched tracking events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier_code", "waybill_number", "time", "status", "description_hash"],
                name="unmatched_tracking_event_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.waybill_number} {self.time:%Y-%m-%d %H:%M} {self.status}"


class OrderTrackingToken(models.Model):
    """The unguessable token of an order's public tracking page (/t/<token>/); revoked tokens answer 404."""

    order = models.OneToOneField(
        "orders.SalesOrder", on_delete=models.CASCADE, related_name="tracking_token", verbose_name=_("order")
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("order tracking token")
        verbose_name_plural = _("order tracking tokens")

    def __str__(self) -> str:
        return f"{self.order_id}"


# Returns and pick waves live beside their code; importing them here registers them with the app.
from logistics.exceptions.models import DeliveryException, DeliveryExceptionEvent  # noqa: E402,F401
from logistics.returns.models import ReturnEvent, ReturnLine, ReturnRequest  # noqa: E402,F401
from logistics.shipments.wave_models import PickWave  # noqa: E402,F401
