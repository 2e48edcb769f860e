from __future__ import annotations

from django.urls import path

from logistics.tracking import hooks

urlpatterns = [
    path("kuaidi100/", hooks.kuaidi100_push, name="tracking_hook_kuaidi100"),
    path("aftership/", hooks.aftership_push, name="tracking_hook_aftership"),
]
