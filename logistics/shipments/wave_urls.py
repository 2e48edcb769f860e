from __future__ import annotations

from django.urls import path

from logistics.shipments import wave_views

urlpatterns = [
    path("pick/wave/", wave_views.wave_create, name="wave_create"),
    path("waves/<int:pk>/", wave_views.wave_detail, name="wave_detail"),
    path("waves/<int:pk>/pick-list.pdf", wave_views.wave_pick_list, name="wave_pick_list"),
]
