from __future__ import annotations

from django.urls import include, path

app_name = "billing"

urlpatterns: list = [
    path("", include("billing.statements.urls")),
    path("", include("billing.dunning.urls")),
]
urlpatterns += __import__("billing.bank.urls", fromlist=["urlpatterns"]).urlpatterns  # bank statements and reconciliation
