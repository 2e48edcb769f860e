"""Tables in and out: read CSV/XLSX uploads, dry-run every row, commit all or nothing, export.

An app describes what it imports with an `ImportSpec` (columns, the key that matches an existing
record, a ModelForm that validates a row, a service call that saves it); this module does the
rest: decoding (UTF-8 with or without BOM, GB18030 as Chinese Excel writes it, UTF-16), header
matching (column key or its label in any of the site's languages), per-row errors with row
number and column, and the two-step upload → preview → commit page.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.exports import FORMULA_PREFIXES, export_filename, export_response  # noqa: F401 - the importers' API

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# An .xlsx is a zip of XML parts: what it may unpack to is checked before anything is parsed.
XLSX_MAX_ENTRIES = 100  # parts in the archive (a workbook from Excel has about 10-20)
XLSX_MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024  # all parts together, unpacked
XLSX_MAX_PART_BYTES = 25 * 1024 * 1024  # one part (the sheet, the shared strings), unpacked
XLSX_MAX_RATIO = 100  # unpacked / packed size of a part larger than XLSX_RATIO_FLOOR_BYTES
XLSX_RATIO_FLOOR_BYTES = 1024 * 1024
XLSX_MAX_COLUMNS = 200  # the sheet's declared width
XLSX_MAX_SHEET_ROWS = 2 * MAX_ROWS  # rows read from the sheet, blank ones included
XLSX_PROLOG_BYTES = 4096  # where a part's DOCTYPE would be
# The preview lists at most this many rows (errors first) and shows at most this much of a value.
PREVIEW_MAX_ROWS = 200
PREVIEW_MAX_CHARS = 80
# Between preview and commit the uploaded file is kept on disk (never in the session) this long.
STASH_MAX_AGE_SECONDS = 24 * 3600
NON_FIELD = "__all__"
# 1,234,567.89 or 1 234 567.89: separators only between groups of three digits.
_GROUPED_NUMBER = re.compile(r"^-?\d{1,3}([, ]\d{3})+(\.\d+)?$")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "是", "真", "有效", "启用", "x", "✓"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "否", "假", "无效", "停用", ""}


class ImportFileError(Exception):
    """The uploaded file cannot be read as a table; the message says why, for the user."""


class ImportRejected(Exception):
    """At least one row is invalid: nothing was written. Carries the dry run with the errors."""

    def __init__(self, dry_run: DryRun):
        super().__init__(_("The import was refused: %(n)s row(s) have errors.") % {"n": dry_run.error_count})
        self.dry_run = dry_run


@dataclass(frozen=True)
class Column:
    key: str  # the form field it fills
    label: str  # translatable; the header may be the key or this label in any language
    required: bool = False  # the file must have this column...
    aliases: tuple[str, ...] = ()
    required_unless: str = ""  # ...unless it has this one (e.g. a code that names existing records)


@dataclass
class Table:
    """The rows of an upload: row numbers as the spreadsheet shows them, values by column key."""

    filename: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    ignored: list[str] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------------


def _normal_header(text: str) -> str:
    return " ".join(str(text).replace("*", " ").replace("_", " ").split()).casefold()


def _header_lookup(columns: list[Column]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for column in columns:
        names = {column.key, *column.aliases}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                names.add(str(column.label))
        for name in names:
            lookup.setdefault(_normal_header(name), column.key)
    return lookup


def _decode_csv(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError(_("The file starts like UTF-8 but is not valid UTF-8. Save it again as “CSV UTF-8”."))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file's text encoding is not recognised. Save it as “CSV UTF-8” (or GB18030 / GBK) and upload it again.")
        )


def _read_csv(raw: bytes) -> list[list[str]]:
    text = _decode_csv(raw)
    if "\x00" in text:
        raise ImportFileError(_("The file contains binary data; it is not a CSV file."))
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count) if first_line else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)]
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(error)s") % {"error": exc})


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return str(Decimal(repr(value)))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_refused(reason: str) -> ImportFileError:
    return ImportFileError(_("The workbook cannot be imported: %(reason)s") % {"reason": reason})


def xlsx_check_archive(raw: bytes) -> None:
    """Refuse a workbook whose parts would unpack too large, too far or too many, or declare XML entities."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(_("The file is not a valid Excel workbook (.xlsx)."))
    with archive:
        parts = archive.infolist()
        if len(parts) > XLSX_MAX_ENTRIES:
            raise _xlsx_refused(_("it has more than %(n)s parts.") % {"n": XLSX_MAX_ENTRIES})
        limit_mb = XLSX_MAX_UNCOMPRESSED_BYTES // (1024 * 1024)
        if sum(part.file_size for part in parts) > XLSX_MAX_UNCOMPRESSED_BYTES:
            raise _xlsx_refused(_("it would unpack to more than %(mb)s MB.") % {"mb": limit_mb})
        for part in parts:
            if part.file_size > XLSX_MAX_PART_BYTES or (
                part.file_size > XLSX_RATIO_FLOOR_BYTES and part.file_size > XLSX_MAX_RATIO * max(part.compress_size, 1)
            ):
                raise _xlsx_refused(_("a part of it is compressed suspiciously far (a “zip bomb”)."))
        for part in parts:
            if part.is_dir() or not part.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            try:
                with archive.open(part) as stream:
                    prolog = stream.read(XLSX_PROLOG_BYTES).replace(b"\x00", b"").upper()
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, EOFError):
                raise ImportFileError(_("The file is not a valid Excel workbook (.xlsx)."))
            if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                raise _xlsx_entities_refused()


def _xlsx_entities_refused() -> ImportFileError:
    return _xlsx_refused(_("it declares XML entities (a DOCTYPE), which are refused for safety. Save it again from Excel."))


def _caused_by_entities(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DefusedXmlException):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


_XLSX_READ_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    ParseError,
    NotImplementedError,
    RuntimeError,
    EOFError,
)


def _read_xlsx(raw: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    xlsx_check_archive(raw)
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except DefusedXmlException:
        raise _xlsx_entities_refused()
    except _XLSX_READ_ERRORS as exc:
        if _caused_by_entities(exc):  # openpyxl wraps the parser's refusal in a ValueError
            raise _xlsx_entities_refused()
        raise ImportFileError(_("The file is not a valid Excel workbook (.xlsx)."))
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return []
        if (sheet.max_column or 0) > XLSX_MAX_COLUMNS:
            raise _xlsx_refused(_("its sheet is wider than %(n)s columns.") % {"n": XLSX_MAX_COLUMNS})
        if (sheet.max_row or 0) > XLSX_MAX_SHEET_ROWS:
            raise ImportFileError(_("The file has more than %(n)s rows; split it into smaller files.") % {"n": MAX_ROWS})
        rows = []
        for row in sheet.iter_rows(max_col=min(sheet.max_column or XLSX_MAX_COLUMNS, XLSX_MAX_COLUMNS), values_only=True):
            if len(rows) >= XLSX_MAX_SHEET_ROWS:
                raise ImportFileError(_("The file has more than %(n)s rows; split it into smaller files.") % {"n": MAX_ROWS})
            rows.append([_cell_text(v) for v in row])
        return rows
    except DefusedXmlException:
        raise _xlsx_entities_refused()
    except _XLSX_READ_ERRORS:
        raise ImportFileError(_("The file is not a valid Excel workbook (.xlsx)."))
    finally:
        workbook.close()


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, refused beyond MAX_FILE_BYTES without reading further."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is too large (at most %(mb)s MB).") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    raw = upload.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is too large (at most %(mb)s MB).") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    return raw


def read_table(upload, *, columns: list[Column]) -> Table:
    """Read an uploaded CSV or XLSX into rows keyed by column; refuse what cannot be imported."""
    return table_from_bytes(read_upload(upload), name=getattr(upload, "name", "") or "", columns=columns)


def table_from_bytes(raw: bytes, *, name: str, columns: list[Column]) -> Table:
    """The rows of a file's content; the same bytes always give the same table (preview, then commit)."""
    if not raw.strip(b"\xef\xbb\xbf \r\n\t"):
        raise ImportFileError(_("The file is empty."))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if raw.startswith(b"PK\x03\x04") or extension == "xlsx":
        if not raw.startswith(b"PK\x03\x04"):
            raise ImportFileError(_("The file is not a valid Excel workbook (.xlsx)."))
        cells = _read_xlsx(raw)
    elif raw.startswith(b"\xd0\xcf\x11\xe0") or extension == "xls":
        raise ImportFileError(_("Old Excel files (.xls) cannot be read. Save the sheet as .xlsx or CSV UTF-8."))
    elif extension in ("csv", "txt", "tsv", ""):
        cells = _read_csv(raw)
    else:
        raise ImportFileError(_("Upload a CSV or Excel (.xlsx) file; “.%(ext)s” files cannot be imported.") % {"ext": extension})
    return _table_from_cells(cells, columns=columns, filename=name)


def _table_from_cells(cells: list[list[str]], *, columns: list[Column], filename: str) -> Table:
    # The header is the first row with any text in it.
    start = next((i for i, row in enumerate(cells) if any(str(c).strip() for c in row)), None)
    if start is None:
        raise ImportFileError(_("The file is empty."))
    lookup = _header_lookup(columns)
    positions: dict[int, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(cells[start]):
        header = str(header).strip()
        if not header:
            continue
        key = lookup.get(_normal_header(header))
        if key is None:
            ignored.append(header)
        elif key in positions.values():
            raise ImportFileError(_("The column “%(column)s” appears twice in the header.") % {"column": header})
        else:
            positions[index] = key
    labels = {c.key: str(c.label) for c in columns}
    present = set(positions.values())
    missing = [
        labels[c.key]
        for c in columns
        if c.required and c.key not in present and not (c.required_unless and c.required_unless in present)
    ]
    if missing:
        raise ImportFileError(
            _("Required columns are missing: %(columns)s. The first row must name the columns.") % {"columns": ", ".join(missing)}
        )
    if not positions:
        raise ImportFileError(_("No known column was found in the first row."))
    rows: list[tuple[int, dict[str, str]]] = []
    for offset, row in enumerate(cells[start + 1 :], start=start + 2):
        values = {key: str(row[i]).strip() if i < len(row) and row[i] is not None else "" for i, key in positions.items()}
        if not any(values.values()):
            continue
        rows.append((offset, values))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(_("The file has more than %(n)s rows; split it into smaller files.") % {"n": MAX_ROWS})
    if not rows:
        raise ImportFileError(_("The file has a header but no rows to import."))
    return Table(filename=filename, columns=list(positions.values()), rows=rows, ignored=ignored)


# --- validating and saving ----------------------------------------------------------------------


@dataclass
class RowError:
    column: str
    message: str


@dataclass
class RowOutcome:
    number: int
    action: str  # "create", "update" or "invalid"
    label: str = ""
    errors: list[RowError] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    form: forms.BaseForm | None = None
    existing: models.Model | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class DryRun:
    outcomes: list[RowOutcome]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def error_count(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)

    @property
    def create_count(self) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.action == "create")

    @property
    def update_count(self) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.action == "update")

    @property
    def unchanged_count(self) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.action == "update" and not o.changes)

    @property
    def shown_outcomes(self) -> list[RowOutcome]:
        """The rows the preview lists: the rows with errors if any, else every row, at most PREVIEW_MAX_ROWS."""
        rows = [o for o in self.outcomes if not o.ok] or self.outcomes
        return rows[:PREVIEW_MAX_ROWS]

    @property
    def hidden_count(self) -> int:
        return len([o for o in self.outcomes if not o.ok] or self.outcomes) - len(self.shown_outcomes)


class ImportSpec:
    """What importing one kind of record needs; subclasses set the attributes and `save`."""

    model: type[models.Model]
    form_class: type[forms.ModelForm]
    columns: list[Column]
    match_key: str  # the column that names an existing record (empty cell: a new record)
    unique_in_file: tuple[str, ...] = ()  # besides the match key, values that may appear only once

    def column_label(self, key: str) -> str:
        for column in self.columns:
            if column.key == key:
                return str(column.label)
        return key

    def existing_by_key(self, keys: set[str]) -> dict[str, models.Model]:
        """The records the file's keys name, in one query; override to match differently."""
        if not keys:
            return {}
        lookup = {f"{self.match_key}__in": keys}
        return {getattr(obj, self.match_key): obj for obj in self.model.objects.filter(**lookup)}

    def missing_key_error(self, key: str) -> str | None:
        """The message when a row names a record that does not exist; None creates it with that key."""
        return None

    def make_form(self, *, values: Mapping[str, str], existing) -> forms.BaseForm:
        """Fill a form from the row: columns the file lacks keep the record's current values."""
        base = self.form_class(instance=existing) if existing is not None else self.form_class()
        data: dict = {}
        for name, form_field in base.fields.items():
            if name in values:
                data[name] = normalise_cell(form_field, values[name])
                continue
            if existing is not None:
                if isinstance(form_field, forms.ModelChoiceField):
                    value = form_field.prepare_value(getattr(existing, name, None))
                else:
                    value = base.initial.get(name)
            else:
                value = form_field.initial() if callable(form_field.initial) else form_field.initial
            if value is not None:
                data[name] = value
        return self.form_class(data=data, instance=existing) if existing is not None else self.form_class(data=data)

    def row_label(self, *, form: forms.BaseForm, existing) -> str:
        return str(existing) if existing is not None else str(form.data.get("name", ""))

    def save(self, *, form: forms.BaseForm, existing, by, filename: str) -> models.Model:  # pragma: no cover
        raise NotImplementedError


def normalise_cell(form_field: forms.Field, text: str):
    """Turn what people type in spreadsheets into what the form field expects."""
    text = text.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        text = text[1:]  # our own export's guard against formula injection
    if isinstance(form_field, forms.BooleanField):
        word = text.casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return text  # NullBooleanField & co. reject it with their own message
    if isinstance(form_field, forms.DecimalField | forms.IntegerField):
        text = text.replace("¥", "").replace("￥", "").replace("\u00a0", " ").strip()
        if _GROUPED_NUMBER.match(text):
            text = text.replace(",", "").replace(" ", "")
        return text  # anything else ("1 000,00") is left for the field to refuse, never guessed
    if isinstance(form_field, forms.ChoiceField) and not isinstance(form_field, forms.ModelChoiceField):
        return choice_key(form_field.choices, text)
    return text


def choice_key(choices, text: str) -> str:
    """The key of a choice given its key or its label in any of the site's languages."""
    wanted = text.casefold()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for key, label in choices:
                if isinstance(label, list | tuple):  # grouped choices
                    continue
                if str(key).casefold() == wanted or str(label).casefold() == wanted:
                    return str(key)
    return text


def _form_errors(spec: ImportSpec, form: forms.BaseForm) -> list[RowError]:
    errors = []
    for name, messages_ in form.errors.items():
        column = "" if name == NON_FIELD else spec.column_label(name)
        errors.extend(RowError(column=column, message=str(m)) for m in messages_)
    return errors


def _changed_fields(spec: ImportSpec, form: forms.BaseForm, before: dict) -> list[str]:
    instance = form.instance
    changed = []
    for name in form.fields:
        try:
            model_field = instance._meta.get_field(name)
        except Exception:
            continue
        if model_field.value_from_object(instance) != before.get(name):
            changed.append(spec.column_label(name))
    return changed


def import_dry_run(*, spec: ImportSpec, table: Table) -> DryRun:
    """Validate every row as if it were saved; report per row what would happen or what is wrong."""
    keys = {values.get(spec.match_key, "").strip() for _n, values in table.rows}
    existing = spec.existing_by_key({k for k in keys if k})
    seen: dict[str, dict[str, int]] = {name: {} for name in (spec.match_key, *spec.unique_in_file)}
    outcomes: list[RowOutcome] = []
    for number, values in table.rows:
        errors: list[RowError] = []
        key = values.get(spec.match_key, "").strip()
        record = existing.get(key) if key else None
        if key and record is None and (message := spec.missing_key_error(_shorten(key))):
            errors.append(RowError(column=spec.column_label(spec.match_key), message=message))
        for name, first_rows in seen.items():
            value = values.get(name, "").strip()
            if not value:
                continue
            folded = value.casefold()
            if folded in first_rows:
                errors.append(
                    RowError(
                        column=spec.column_label(name),
                        message=_("“%(value)s” is already in row %(row)s of this file.")
                        % {"value": _shorten(value), "row": first_rows[folded]},
                    )
                )
            else:
                first_rows[folded] = number
        before = {}
        if record is not None:
            before = {
                name: record._meta.get_field(name).value_from_object(record)
                for name in spec.form_class.base_fields
                if _is_model_field(record, name)
            }
        form = spec.make_form(values=values, existing=record)
        valid = form.is_valid()
        if not valid:
            errors.extend(_form_errors(spec, form))
        outcome = RowOutcome(
            number=number,
            action="invalid" if errors else ("update" if record is not None else "create"),
            label=_shorten(spec.row_label(form=form, existing=record)),
            errors=errors,
            form=form,
            existing=record,
        )
        if record is not None and valid:
            outcome.changes = _changed_fields(spec, form, before)
        outcomes.append(outcome)
    return DryRun(outcomes=outcomes, ignored_columns=list(table.ignored))


def _shorten(text: str) -> str:
    """An uploaded value as the preview shows it: never more than PREVIEW_MAX_CHARS characters."""
    text = str(text)
    return text if len(text) <= PREVIEW_MAX_CHARS else text[: PREVIEW_MAX_CHARS - 1] + "…"


def _is_model_field(instance: models.Model, name: str) -> bool:
    try:
        instance._meta.get_field(name)
        return True
    except Exception:
        return False


def import_commit(*, spec: ImportSpec, table: Table, by) -> DryRun:
    """Validate again and save every row in one transaction: any error and nothing is written."""
    with transaction.atomic():
        dry_run = import_dry_run(spec=spec, table=table)
        if not dry_run.ok:
            raise ImportRejected(dry_run)
        for outcome in dry_run.outcomes:
            if outcome.action == "update" and not outcome.changes:
                continue
            try:
                with transaction.atomic():
                    spec.save(form=outcome.form, existing=outcome.existing, by=by, filename=table.filename)
            except ValidationError as exc:
                outcome.errors.extend(RowError(column="", message=m) for m in exc.messages)
            except (IntegrityError, DatabaseError):
                outcome.errors.append(
                    RowError(
                        column="",
                        message=_("The database refused this row (someone may have changed the same record). Try again."),
                    )
                )
            except ImportRowError as exc:
                outcome.errors.append(RowError(column=spec.column_label(exc.field) if exc.field else "", message=str(exc)))
            if outcome.errors:
                outcome.action = "invalid"
                raise ImportRejected(dry_run)
    return dry_run


class ImportRowError(Exception):
    """A service refused one row at commit time; `field` names its column when known."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- exporting: config.exports (these names stay importable from here) ------------------------


# --- the two-step page --------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8 or GB18030) or Excel .xlsx; the first row names the columns."),
    )


def _stash_dir() -> Path:
    return Path(getattr(settings, "IMPORT_STASH_DIR", "") or Path(settings.VAR_DIR) / "imports")


def _stash_path(*, user_id, token: str) -> Path | None:
    if not re.fullmatch(r"[0-9a-f]{32}", token or "") or user_id is None:
        return None
    return _stash_dir() / f"{int(user_id)}-{token}.upload"


def import_stash(*, raw: bytes, user_id) -> str:
    """Keep an uploaded file on disk until its commit; returns the random token that names it (with its owner)."""
    directory = _stash_dir()
    directory.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STASH_MAX_AGE_SECONDS
    for old in directory.glob("*.upload"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_hex(16)
    path = _stash_path(user_id=user_id, token=token)
    path.write_bytes(raw)
    path.chmod(0o600)
    return token


def import_unstash(*, token: str, user_id) -> bytes | None:
    """The stashed file's bytes if this user stashed it under this token and it has not expired."""
    path = _stash_path(user_id=user_id, token=token)
    if path is None:
        return None
    try:
        if path.stat().st_mtime < time.time() - STASH_MAX_AGE_SECONDS:
            return None
        return path.read_bytes()
    except OSError:
        return None


def import_stash_drop(*, token: str, user_id) -> None:
    path = _stash_path(user_id=user_id, token=token)
    if path is not None:
        path.unlink(missing_ok=True)


def import_page(request, *, spec: ImportSpec, template_name: str, session_key: str, done_url: str, context: dict | None = None):
    """Upload → dry run shown row by row → commit of the same file, parsed and validated again, all or nothing.

    Between the two steps the file waits on disk under a random token owned by the user; the
    session holds only that token and the file's name, never the rows.
    """
    context = dict(context or {})
    context.update({"columns": spec.columns, "match_label": spec.column_label(spec.match_key)})
    stored = request.session.get(session_key)
    if request.method == "POST" and "commit" in request.POST:
        raw = None
        if isinstance(stored, Mapping) and stored.get("token") and request.POST.get("token") == stored.get("token"):
            raw = import_unstash(token=stored["token"], user_id=request.user.pk)
        table = None
        if raw is not None:
            try:
                table = table_from_bytes(raw, name=str(stored.get("filename", "")), columns=spec.columns)
            except ImportFileError:
                table = None
        if table is None:
            messages.error(request, _("This preview is out of date. Upload the file again."))
            return render(request, template_name, {**context, "form": ImportUploadForm()})
        try:
            result = import_commit(spec=spec, table=table, by=request.user)
        except ImportRejected as rejected:
            messages.error(request, _("Nothing was imported: fix the rows with errors and upload the file again."))
            return render(
                request,
                template_name,
                {**context, "form": ImportUploadForm(), "dry_run": rejected.dry_run, "filename": table.filename},
            )
        import_stash_drop(token=stored["token"], user_id=request.user.pk)
        del request.session[session_key]
        messages.success(
            request,
            _("Imported %(file)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "file": _shorten(table.filename),
                "created": result.create_count,
                "updated": result.update_count - result.unchanged_count,
                "unchanged": result.unchanged_count,
            },
        )
        return redirect(done_url)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            name = getattr(upload, "name", "") or ""
            try:
                raw = read_upload(upload)
                table = table_from_bytes(raw, name=name, columns=spec.columns)
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                dry_run = import_dry_run(spec=spec, table=table)
                if isinstance(stored, Mapping) and stored.get("token"):
                    import_stash_drop(token=stored["token"], user_id=request.user.pk)
                token = import_stash(raw=raw, user_id=request.user.pk)
                request.session[session_key] = {"token": token, "filename": name}
                return render(
                    request,
                    template_name,
                    {
                        **context,
                        "form": ImportUploadForm(),
                        "dry_run": dry_run,
                        "token": token,
                        "filename": _shorten(table.filename),
                    },
                )
        return render(request, template_name, {**context, "form": form}, status=400)
    return render(request, template_name, {**context, "form": ImportUploadForm()})
