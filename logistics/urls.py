from __future__ import annotations

app_name = "logistics"

urlpatterns: list = []
