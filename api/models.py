"""Channel clients (web shops, marketplaces, phone systems), the idempotency keys of their requests,
and the customers they know by their own ids."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import Channel


class ApiClient(models.Model):
    """A sales channel's access to the API: a token (only its SHA-256 is kept), scopes and a rate limit.

    Orders it enters are recorded as entered by its own account (`user`), which cannot sign in.
    """

    name = models.CharField(_("name"), max_length=60, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.WEB_SHOP)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    # The token's first characters, shown in lists so a manager can tell tokens apart.
    token_prefix = models.CharField(_("token starts with"), max_length=12, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("requests per minute"), default=120, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client", verbose_name=_("account")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]
        permissions = [("revoke_apiclient", _("Can revoke API clients"))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`: a retry with the same key and body gets it again.

    The row is written in the same transaction as the order it answers for, so a key is either
    unknown or finished; a retry that arrives while the first request still runs waits on the row.
    """

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, null=True, blank=True, related_name="idempotency_keys")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"))
    # The JSON exactly as first sent (a replay is byte for byte the same answer).
    response_body = models.TextField(_("response body"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "key"], condition=Q(client__isnull=False), name="idempotency_key_per_client"
            ),
            models.UniqueConstraint(fields=["user", "key"], condition=Q(client__isnull=True), name="idempotency_key_per_user"),
            models.CheckConstraint(condition=Q(client__isnull=False) | Q(user__isnull=False), name="idempotency_key_has_owner"),
        ]

    def __str__(self) -> str:
        return self.key


class ChannelCustomer(models.Model):
    """A customer as a channel knows it (its own customer id): the same id pushed again finds the same customer."""

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    external_id = models.CharField(_("external ID"), max_length=100)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="channel_ids", verbose_name=_("customer")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel customer ID")
        verbose_name_plural = _("channel customer IDs")
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="channel_customer_id_unique")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"
