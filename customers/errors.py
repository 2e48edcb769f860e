"""Kept for one step only: orders still imports CustomerError; customers raises config.errors.DomainError."""

from __future__ import annotations

from config.errors import DomainError as CustomerError  # noqa: F401
