"""Hostile spreadsheets: entities, zip bombs and huge sheets are refused before they cost anything."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from config.imports import (
    MAX_ROWS,
    PREVIEW_MAX_CHARS,
    PREVIEW_MAX_ROWS,
    XLSX_MAX_COLUMNS,
    ImportFileError,
    import_stash,
    import_unstash,
    read_table,
)
from customers.imports import CustomerImport
from customers.models import Customer

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
XML_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>"


@pytest.fixture(autouse=True)
def stash_dir(settings, tmp_path):
    settings.IMPORT_STASH_DIR = str(tmp_path / "imports")
    return tmp_path / "imports"


def workbook_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewritten(raw: bytes, part: str, change, *, add: dict[str, bytes] | None = None) -> bytes:
    """The workbook with one XML part replaced by change(old_bytes), and parts added."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == part else data)
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return buffer.getvalue()


def with_doctype(data: bytes, doctype: bytes, *, replace: bytes = b"", by: bytes = b"") -> bytes:
    body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
    if replace:
        body = body.replace(replace, by)
    return XML_DECLARATION + doctype + body


def shared_strings_workbook(strings_xml: bytes) -> bytes:
    """A workbook whose second row's name is shared string 0, read from `strings_xml` as Excel writes it."""
    raw = workbook_bytes([["name"], ["SHARED"]])
    inline = b'<c r="A2" t="inlineStr"><is><t>SHARED</t></is></c>'
    raw = rewritten(raw, SHEET, lambda d: d.replace(inline, b'<c r="A2" t="s"><v>0</v></c>'))
    relation = (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"'
        b' Target="sharedStrings.xml" Id="rId9" /></Relationships>'
    )
    raw = rewritten(raw, "xl/_rels/workbook.xml.rels", lambda d: d.replace(b"</Relationships>", relation))
    content_type = (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml" /></Types>'
    )
    return rewritten(raw, "[Content_Types].xml", lambda d: d.replace(b"</Types>", content_type), add={STRINGS: strings_xml})


def shared_strings(text: bytes, doctype: bytes = b"") -> bytes:
    return (
        XML_DECLARATION
        + doctype
        + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
        + text
        + b"</t></si></sst>"
    )


def external_entity_workbook() -> bytes:
    doctype = b'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return shared_strings_workbook(shared_strings(b"&xxe;", doctype))


LAUGHS = (
    b'[<!ENTITY l0 "ha">'
    + b"".join(b'<!ENTITY l%d "%s">' % (i, b"".join(b"&l%d;" % (i - 1) for _ in range(10))) for i in range(1, 10))
    + b"]>"
)


def laughs_in_sheet() -> bytes:
    raw = workbook_bytes([["name"], ["LAUGH"]])
    return rewritten(raw, SHEET, lambda d: with_doctype(d, b"<!DOCTYPE worksheet " + LAUGHS, replace=b"LAUGH", by=b"&l9;"))


def laughs_in_shared_strings() -> bytes:
    return shared_strings_workbook(shared_strings(b"&l9;", b"<!DOCTYPE sst " + LAUGHS))


def bomb_workbook(unpacked_mb: int = 300) -> bytes:
    """A valid-looking workbook whose sheet unpacks from a few hundred KB to `unpacked_mb` MB."""
    raw = workbook_bytes([["name"], ["甲公司"]])
    source = zipfile.ZipFile(io.BytesIO(raw))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info.filename, source.read(info.filename))
                continue
            with target.open(SHEET, "w", force_zip64=True) as stream:
                stream.write(
                    XML_DECLARATION
                    + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                    + b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
                    + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
                )
                chunk = b"A" * (1024 * 1024)
                for _ in range(unpacked_mb):
                    stream.write(chunk)
                stream.write(b"</t></is></c></row></sheetData></worksheet>")
    return buffer.getvalue()


def post_import(client, content: bytes, url_name: str = "customers:import"):
    return client.post(reverse(url_name), {"file": SimpleUploadedFile("hostile.xlsx", content)})


def read(content: bytes):
    spec = CustomerImport()
    return read_table(SimpleUploadedFile("hostile.xlsx", content), columns=spec.columns)


# --- XML entities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("url_name", "roles"), [("customers:import", ("sales",)), ("inventory:product_import", ("warehouse",))])
@pytest.mark.parametrize("content", [external_entity_workbook, laughs_in_sheet, laughs_in_shared_strings])
def test_a_workbook_declaring_entities_is_a_400_with_a_message(client_as, url_name, roles, content):
    response = post_import(client_as(*roles), content(), url_name)
    assert response.status_code == 400
    body = response.content.decode()
    assert "declares XML entities" in body
    assert "root:" not in body and "hahaha" not in body
    assert not Customer.objects.exists()


def test_an_entity_hidden_past_the_prolog_scan_is_still_refused_by_the_parser():
    """defusedxml, which openpyxl uses when installed, refuses what the cheap scan cannot see."""
    padding = b"<!--" + b"x" * 10_000 + b"-->"
    content = shared_strings_workbook(shared_strings(b"&l0;", padding + b'<!DOCTYPE sst [<!ENTITY l0 "ha">]>'))
    with pytest.raises(ImportFileError, match="declares XML entities"):
        read(content)


def test_a_workbook_with_shared_strings_still_reads():
    assert read(shared_strings_workbook(shared_strings("甲公司".encode()))).rows == [(2, {"name": "甲公司"})]


# --- zip bombs and huge sheets --------------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_unpacking_with_flat_memory(client_as):
    content = bomb_workbook()
    assert len(content) < 2 * 1024 * 1024
    client = client_as("sales")
    tracemalloc.start()
    try:
        response = post_import(client, content)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code in (400, 413)
    assert "zip bomb" in response.content.decode() or "unpack to more than" in response.content.decode()
    assert peak < 30 * 1024 * 1024, f"reading the bomb took {peak / 1e6:.0f} MB"
    assert len(response.content) < 200_000
    assert "import:customers" not in client.session


def test_a_highly_compressed_part_is_refused_even_under_the_size_limits():
    with pytest.raises(ImportFileError, match="zip bomb"):
        read(bomb_workbook(unpacked_mb=5))


def test_a_sheet_declaring_more_columns_than_allowed_is_refused():
    raw = workbook_bytes([["name"], ["甲公司"]])
    content = rewritten(raw, SHEET, lambda d: d.replace(b'<dimension ref="A1:A2" />', b'<dimension ref="A1:XFD2"/>'))
    assert b"XFD2" in zipfile.ZipFile(io.BytesIO(content)).read(SHEET)
    with pytest.raises(ImportFileError, match=f"wider than {XLSX_MAX_COLUMNS} columns"):
        read(content)


def test_a_sheet_declaring_a_million_rows_is_refused():
    raw = workbook_bytes([["name"], ["甲公司"]])
    content = rewritten(raw, SHEET, lambda d: d.replace(b'<dimension ref="A1:A2" />', b'<dimension ref="A1:A1048576"/>'))
    with pytest.raises(ImportFileError, match=f"more than {MAX_ROWS} rows"):
        read(content)


def test_a_sheet_with_a_cell_far_down_and_no_dimension_stops_early():
    raw = workbook_bytes([["name"], ["甲公司"]])
    far = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    content = rewritten(raw, SHEET, lambda d: d.replace(b'<dimension ref="A1:A2" />', b"").replace(b"</sheetData>", far))
    with pytest.raises(ImportFileError, match=f"more than {MAX_ROWS} rows"):
        read(content)


def test_an_archive_with_too_many_parts_is_refused():
    raw = workbook_bytes([["name"], ["甲公司"]])
    source = zipfile.ZipFile(io.BytesIO(raw))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        for i in range(500):
            target.writestr(f"xl/media/junk{i}.bin", b"")
    with pytest.raises(ImportFileError, match="more than 100 parts"):
        read(buffer.getvalue())


# --- what the preview keeps and shows -------------------------------------------------------------


def test_the_session_keeps_no_rows_between_preview_and_commit(client_as):
    client = client_as("sales")
    names = [f"公司{i:04d}" for i in range(1500)]
    content = workbook_bytes([["name"], *[[n] for n in names]])
    response = post_import(client, content)
    assert response.status_code == 200 and response.context["dry_run"].create_count == 1500
    stored = client.session["import:customers"]
    assert set(stored) == {"token", "filename"}
    assert "公司0001" not in str(dict(client.session))
    response = client.post(reverse("customers:import"), {"commit": "1", "token": response.context["token"]})
    assert response.status_code == 302
    assert Customer.objects.count() == 1500


def test_a_stashed_upload_belongs_to_its_user(stash_dir):
    token = import_stash(raw="name\n甲公司\n".encode(), user_id=7)
    assert import_unstash(token=token, user_id=7) == "name\n甲公司\n".encode()
    assert import_unstash(token=token, user_id=8) is None
    assert import_unstash(token="../../etc/passwd", user_id=7) is None


def test_the_preview_lists_a_bounded_number_of_rows_and_shortens_values(client_as):
    client = client_as("sales")
    long_name = "长" * 200
    rows = "".join(f"{long_name}{i},lots\n" for i in range(MAX_ROWS))
    response = client.post(
        reverse("customers:import"), {"file": SimpleUploadedFile("big.csv", ("name,credit_limit\n" + rows).encode())}
    )
    body = response.content.decode()
    assert response.context["dry_run"].error_count == MAX_ROWS
    assert body.count('class="row-error"') == PREVIEW_MAX_ROWS
    assert f"{MAX_ROWS - PREVIEW_MAX_ROWS} more rows are not listed" in body
    assert "长" * (PREVIEW_MAX_CHARS + 1) not in body
    assert len(body) < 500_000
