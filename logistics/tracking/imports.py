"""Tracking events from a spreadsheet, for carriers that push nothing: waybill number, time, status,
description (location and carrier optional), one event a row.

Read with config.imports (CSV in UTF-8 with or without BOM or GB18030, or .xlsx read-only with its
archive checked before parsing), every row checked and previewed, then all rows stored in one
transaction through tracking_record (the same event twice is stored once; unknown waybill numbers
are kept aside for review, as the carriers' pushes are)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.actors import Actor
from config.errors import PermissionRefused
from config.imports import FORMULA_PREFIXES, Column, Table, choice_key
from logistics.models import (
    Carrier,
    Parcel,
    TrackingEvent,
    TrackingSource,
    TrackingStatus,
    UnmatchedTrackingEvent,
    description_digest,
)
from logistics.tracking.services import EventInput, tracking_record

COLUMNS = [
    Column(
        "waybill",
        gettext_lazy("Waybill number"),
        required=True,
        aliases=("waybill", "tracking number", "运单号", "快递单号", "单号"),
    ),
    Column("time", gettext_lazy("Time"), required=True, aliases=("date", "event time", "时间", "日期", "扫描时间")),
    Column("status", gettext_lazy("Status"), required=True, aliases=("state", "状态", "物流状态")),
    Column("description", gettext_lazy("Description"), aliases=("details", "context", "描述", "详情", "物流信息", "内容")),
    Column("location", gettext_lazy("Location"), aliases=("place", "city", "地点", "所在地", "城市")),
    Column("carrier", gettext_lazy("Carrier"), aliases=("courier", "快递公司", "承运商", "快递")),
]

# Words carriers' exports use for a status (besides our own labels in either language and the codes).
STATUS_WORDS = {
    TrackingStatus.DELIVERED: ["已签收", "签收", "妥投", "已妥投", "delivered", "signed"],
    TrackingStatus.IN_TRANSIT: ["运输中", "在途", "在途中", "中转", "到达", "in transit", "transit"],
    TrackingStatus.OUT_FOR_DELIVERY: ["派件中", "派送中", "派件", "派送", "待取件", "out for delivery"],
    TrackingStatus.COLLECTED: ["已揽收", "揽收", "揽件", "已揽件", "collected", "picked up"],
    TrackingStatus.REFUSED: ["拒收", "拒签", "已拒收", "refused"],
    TrackingStatus.RETURNING: ["退回", "退回中", "退件", "退件中", "返回", "returning", "returned"],
    TrackingStatus.PROBLEM: ["问题件", "疑难件", "异常", "疑难", "problem", "exception"],
    TrackingStatus.CUSTOMS: ["清关", "清关中", "海关", "customs"],
    TrackingStatus.FORWARDED: ["转寄", "转投", "转单", "forwarded"],
}
_WORDS = {word.casefold(): status for status, words in STATUS_WORDS.items() for word in words}
_WAYBILL = re.compile(r"^[A-Za-z0-9-]{1,40}$")
MAX_DESCRIPTION = 1000
IMPORT_PERMISSION = "logistics.add_trackingevent"
TIME_FORMATS = [
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
]


def status_from_text(text: str) -> str | None:
    """Our status for what the sheet says: a code, our label in English or Chinese, or a carrier's word."""
    text = (text or "").strip()
    if not text:
        return None
    key = choice_key(TrackingStatus.choices, text)
    if key in TrackingStatus.values:
        return key
    return _WORDS.get(text.casefold())


def time_from_text(text: str) -> datetime | None:
    """A time as spreadsheets write it (ISO, with slashes or dots, or 年月日); naive times are local."""
    text = (text or "").strip()
    if not text:
        return None
    parsed = parse_datetime(text.replace("T", " ")) if "-" in text[:10] else None
    if parsed is None:
        for fmt in TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _clean(text: str) -> str:
    # Our own exports put an apostrophe before text that would read as a formula; it is not part of the value.
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES else text


@dataclass
class TrackingRow:
    number: int
    waybill: str = ""
    carrier_code: str = ""
    time: datetime | None = None
    tracking_status: str = ""
    description: str = ""
    location: str = ""
    errors: list[str] = field(default_factory=list)
    result: str = ""  # "new", "known" (stored already), "unmatched" or "invalid"

    @property
    def status_label(self) -> str:
        return str(dict(TrackingStatus.choices).get(self.tracking_status, ""))


@dataclass
class TrackingPreview:
    rows: list[TrackingRow]
    ignored_columns: list[str]

    @property
    def ok(self) -> bool:
        return not any(row.errors for row in self.rows)

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)

    @property
    def error_count(self) -> int:
        return self.count("invalid")

    @property
    def new_count(self) -> int:
        return self.count("new")

    @property
    def known_count(self) -> int:
        return self.count("known")

    @property
    def unmatched_count(self) -> int:
        return self.count("unmatched")

    @property
    def shown_rows(self) -> list[TrackingRow]:
        return ([row for row in self.rows if row.errors] or self.rows)[:200]


def _carriers() -> dict[str, str]:
    """Carrier code or name (any case) → code."""
    found = {}
    for code, name in Carrier.objects.values_list("code", "name"):
        found[code.casefold()] = code
        found[name.casefold()] = code
    return found


def tracking_preview(*, table: Table) -> TrackingPreview:
    """Check every row and say what storing it would do: a new event, one already stored, or one kept aside."""
    carriers = _carriers()
    rows: list[TrackingRow] = []
    seen: dict[tuple, int] = {}
    for number, values in table.rows:
        row = TrackingRow(number=number)
        waybill = _clean(values.get("waybill", "")).strip().upper()
        if not waybill:
            row.errors.append(_("The waybill number is missing."))
        elif not _WAYBILL.match(waybill):
            row.errors.append(_("A waybill number has only letters, digits and dashes (at most 40)."))
        row.waybill = waybill[:40]
        carrier_text = _clean(values.get("carrier", "")).strip()
        if carrier_text:
            row.carrier_code = carriers.get(carrier_text.casefold(), "")
            if not row.carrier_code:
                row.errors.append(_("No carrier is called “%(carrier)s”.") % {"carrier": carrier_text[:60]})
        row.time = time_from_text(values.get("time", ""))
        if row.time is None:
            row.errors.append(
                _("The time “%(time)s” is not a date and time such as 2026-11-30 14:05.") % {"time": values.get("time", "")[:40]}
            )
        elif row.time > timezone.now() + timedelta(days=1):
            row.errors.append(_("The time is in the future."))
        status = status_from_text(values.get("status", ""))
        if status is None:
            row.errors.append(_("Unknown status “%(status)s”.") % {"status": values.get("status", "")[:40]})
        row.tracking_status = status or ""
        row.description = _clean(values.get("description", "")).strip()[:MAX_DESCRIPTION]
        row.location = _clean(values.get("location", "")).strip()[:200]
        if not row.errors:
            key = (row.carrier_code, row.waybill, row.time, description_digest(row.description))
            if key in seen:
                row.errors.append(_("The same event is already in row %(row)s of this file.") % {"row": seen[key]})
            else:
                seen[key] = number
        rows.append(row)
    _predict(rows)
    return TrackingPreview(rows=rows, ignored_columns=list(table.ignored))


def _predict(rows: list[TrackingRow]) -> None:
    """Per valid row: would it be new, is it stored already, or is its waybill unknown (a few queries for the whole file)."""
    valid = [row for row in rows if not row.errors]
    waybills = {row.waybill for row in valid}
    parcels: dict[str, list[Parcel]] = defaultdict(list)
    for parcel in Parcel.objects.filter(waybill_number__in=waybills).select_related("carrier"):
        parcels[parcel.waybill_number].append(parcel)
    stored = set(
        TrackingEvent.objects.filter(parcel__waybill_number__in=waybills).values_list("parcel_id", "time", "description_hash")
    )
    kept = set(
        UnmatchedTrackingEvent.objects.filter(waybill_number__in=waybills).values_list(
            "carrier_code", "waybill_number", "time", "status", "description_hash"
        )
    )
    for row in rows:
        if row.errors:
            row.result = "invalid"
            continue
        candidates = parcels.get(row.waybill, [])
        exact = [p for p in candidates if row.carrier_code and p.carrier and p.carrier.code == row.carrier_code]
        parcel = exact[0] if exact else (candidates[0] if len(candidates) == 1 else None)
        digest = description_digest(row.description)
        if parcel is None:
            known = (row.carrier_code, row.waybill, row.time, row.tracking_status, digest) in kept
        else:
            known = (parcel.pk, row.time, digest) in stored
        row.result = "known" if known else ("new" if parcel is not None else "unmatched")


@dataclass
class TrackingImportResult:
    stored: int
    unmatched: int
    waybills: int


@transaction.atomic
def tracking_import(*, table: Table, by) -> TrackingImportResult:
    """Store every row's event (checked again first): all or nothing. Returns what was new and what was kept aside."""
    if not Actor.of(by).has_perm(IMPORT_PERMISSION):
        raise PermissionRefused(_("You are not allowed to import tracking events."))
    preview = tracking_preview(table=table)
    if not preview.ok:
        raise TrackingImportRejected(preview)
    groups: dict[tuple[str, str], list[TrackingRow]] = defaultdict(list)
    for row in preview.rows:
        groups[(row.carrier_code, row.waybill)].append(row)
    stored = 0
    for (carrier_code, waybill), rows in groups.items():
        result = tracking_record(
            carrier_code=carrier_code,
            waybill=waybill,
            events=[
                EventInput(time=r.time, status=r.tracking_status, description=r.description, location=r.location) for r in rows
            ],
            source=TrackingSource.IMPORT,
        )
        if result.matched:
            stored += result.stored
    # Events kept aside are counted by the check above, in this transaction (a kept event comes back as known).
    return TrackingImportResult(stored=stored, unmatched=preview.unmatched_count, waybills=len(groups))


class TrackingImportRejected(Exception):
    """A row is invalid: nothing was stored."""

    def __init__(self, preview: TrackingPreview):
        super().__init__("invalid rows")
        self.preview = preview
