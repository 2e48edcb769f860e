from __future__ import annotations

app_name = "billing"

urlpatterns: list = []
urlpatterns += __import__("billing.bank.urls", fromlist=["urlpatterns"]).urlpatterns  # bank statements and reconciliation
