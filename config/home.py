"""The home page's work queues: each app offers the queues of its roles."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.module_loading import import_string

# Each provider is a function (user) -> list[WorkQueue] that returns only what the user may see.
QUEUE_PROVIDERS = [
    "orders.selectors.home_queues",
    "inventory.stock.selectors.home_queues",
    "customers.selectors.home_queues",
    "logistics.selectors.home_queues",
]


@dataclass
class WorkQueue:
    title: str
    url: str
    count: int
    items: list = field(default_factory=list)  # objects with get_absolute_url() and __str__
    empty_text: str = ""
    role: str = ""


def work_queues_for(user) -> list[WorkQueue]:
    queues: list[WorkQueue] = []
    for path in QUEUE_PROVIDERS:
        provider = import_string(path)
        queues.extend(provider(user))
    return queues
