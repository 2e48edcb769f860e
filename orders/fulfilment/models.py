"""The progress row of "allocate all waiting orders": a task works through it in batches."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BulkAllocation(models.Model):
    """One run of "allocate all waiting orders"; at most one runs at a time (a unique partial index)."""

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("started by")
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    running = models.BooleanField(_("running"), default=True)
    # The orders waiting when the run started, oldest approval first; `done` of them are handled.
    order_ids = models.JSONField(_("orders"), default=list, blank=True)
    total = models.PositiveIntegerField(_("orders to allocate"), default=0)
    done = models.PositiveIntegerField(_("orders handled"), default=0)
    allocated = models.PositiveIntegerField(_("allocated"), default=0)
    backordered = models.PositiveIntegerField(_("backordered"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    failed_orders = models.JSONField(_("orders that failed"), default=list, blank=True)
    # The worker working through it holds it until `lease_until`; a run whose lease ran out is resumed.
    lease_until = models.DateTimeField(_("held until"), null=True, blank=True)
    lease_token = models.CharField(_("held by"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("allocation of all waiting orders")
        verbose_name_plural = _("allocations of all waiting orders")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["running"], condition=Q(running=True), name="one_running_bulk_allocation"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 / self.total)
