from __future__ import annotations


class OrderError(Exception):
    """A business rule refused an order action; the message is shown to the user as is."""


class StaleOrder(OrderError):
    """Someone else saved the order since this user opened it."""
