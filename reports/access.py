"""Whose figures a reader may see: managers see everyone's, a salesperson only their own."""

from __future__ import annotations


def salesperson_scope(user) -> int | None:
    """None when the user may see every salesperson's figures; else the user's id, to filter the facts by."""
    if user.has_perm("reports.view_all_figures"):
        return None
    return user.pk
