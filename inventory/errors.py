from __future__ import annotations


class InventoryError(Exception):
    """A stock rule refused an action; the message is shown to the user as is."""


class InsufficientStock(InventoryError):
    """Not enough free stock for what was asked."""
