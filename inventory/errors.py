"""Stock's own refusal: not enough free stock. Every other refusal is a config.errors.DomainError."""

from __future__ import annotations

from config.errors import DomainError


class InsufficientStock(DomainError):
    """Not enough free stock for what was asked."""

    default_code = "insufficient_stock"
