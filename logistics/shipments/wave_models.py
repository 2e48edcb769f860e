"""A pick wave (波次): several orders picked in one walk through one warehouse, one shipment each,
one combined pick list in bin order."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class PickWave(models.Model):
    """The shipments created together for one walk through a warehouse."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="pick_waves", verbose_name=_("warehouse")
    )
    shipments = models.ManyToManyField("logistics.Shipment", related_name="waves", verbose_name=_("shipments"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("pick wave")
        verbose_name_plural = _("pick waves")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("logistics:wave_detail", args=[self.pk])
