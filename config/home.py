"""The home page's work queues: each app offers the queues of its roles."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

# A home page shows the first few items of each queue and how many there are, counted no further
# than COUNT_CAP (a queue of 120,000 delivered orders says "999+" instead of counting them all).
QUEUE_PREVIEW = 5
COUNT_CAP = 999


@dataclass
class WorkQueue:
    title: str
    url: str
    count: int
    items: list = field(default_factory=list)  # objects with get_absolute_url() and __str__
    empty_text: str = ""
    role: str = ""

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


def work_queue(*, title, url: str, queryset, empty_text="", role: str = "") -> WorkQueue:
    """A queue from a queryset: its first QUEUE_PREVIEW items, and its size counted up to COUNT_CAP."""
    items = list(queryset[:QUEUE_PREVIEW])
    count = len(items) if len(items) < QUEUE_PREVIEW else queryset.order_by()[: COUNT_CAP + 1].count()
    return WorkQueue(title=title, url=url, count=count, items=items, empty_text=empty_text, role=role)


def work_queues_for(user) -> list[WorkQueue]:
    queues: list[WorkQueue] = []
    for path in settings.HOME_QUEUE_PROVIDERS:
        provider = import_string(path)
        queues.extend(provider(user))
    return queues


# --- figures: the few numbers that matter to a role, shown above its queues -----------------------


@dataclass
class HomeFigure:
    """One number on a home page: what it is, its value, how to show it, and where it is explained."""

    label: str
    value: object  # Decimal, int or None (not known yet: shown as a dash)
    kind: str = "int"  # int | money | percent (a fraction: 0.25 shows 25 %) | days
    url: str = ""
    note: str = ""  # the period or scope it covers ("Month to date", "Your customers")
    role: str = ""


def home_figures_for(user) -> list[HomeFigure]:
    """The figures every HOME_FIGURE_PROVIDERS provider offers this user (each returns only what the user may see)."""
    figures: list[HomeFigure] = []
    for path in getattr(settings, "HOME_FIGURE_PROVIDERS", ()):
        provider = import_string(path)
        figures.extend(provider(user))
    return figures
