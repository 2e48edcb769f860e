"""Cursor pagination: stable pages however many rows are added meanwhile, no COUNT over the table."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"


class OrderCursorPagination(ApiCursorPagination):
    # Oldest change first: a client polling `updated_since` walks forward through what changed.
    ordering = ("updated_at", "id")


class ProductCursorPagination(ApiCursorPagination):
    ordering = "sku"


class CustomerCursorPagination(ApiCursorPagination):
    ordering = "code"


class ShipmentCursorPagination(ApiCursorPagination):
    ordering = ("-created_at", "-id")


class InvoiceCursorPagination(ApiCursorPagination):
    ordering = ("-issued_at", "-id")
