from __future__ import annotations

from reports.cycles import urls as cycles

app_name = "reports"

urlpatterns: list = [*cycles.urlpatterns]
