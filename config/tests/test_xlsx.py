"""The streaming XLSX writer: what a spreadsheet program reads back from it."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from config import xlsx
from config.exports import export_xlsx


def _written(headers, rows, title="Orders", **kwargs) -> bytes:
    target = io.BytesIO()
    xlsx.write_xlsx(target, headers=headers, rows=rows, sheet_title=title, **kwargs)
    return target.getvalue()


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_numbers_dates_and_text_come_back_as_written():
    data = _written(
        ["Number", "Day", "Amount", "Count", "Rate", "Note"],
        [
            ["SO-1", date(2026, 11, 30), Decimal("1234.56"), 7, 0.13, "上海 & <Beijing>"],
            ["SO-2", date(1999, 3, 1), Decimal("-0.01"), 0, 1.5, None],
        ],
    )
    sheet = _sheet(data)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Number", "Day", "Amount", "Count", "Rate", "Note")
    assert rows[1][0] == "SO-1" and rows[1][1] == datetime(2026, 11, 30) and Decimal(str(rows[1][2])) == Decimal("1234.56")
    assert rows[1][3] == 7 and rows[1][4] == 0.13 and rows[1][5] == "上海 & <Beijing>"
    assert rows[2][1] == datetime(1999, 3, 1) and Decimal(str(rows[2][2])) == Decimal("-0.01") and rows[2][5] is None
    assert sheet["B2"].number_format == "yyyy\\-mm\\-dd"
    assert sheet.title == "Orders"


def test_the_header_is_bold_and_frozen():
    sheet = _sheet(_written(["A", "B"], [[1, 2]]))
    assert sheet["A1"].font.b and sheet["B1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"


def test_formula_like_text_is_a_string_cell_never_a_formula():
    hostile = ['=HYPERLINK("http://example.invalid","x")', "+1+2", "-3", "@SUM(A1)"]
    sheet = _sheet(_written(["a", "b", "c", "d"], [hostile]))
    cells = next(sheet.iter_rows(min_row=2, max_row=2))
    assert [cell.value for cell in cells] == hostile
    assert {cell.data_type for cell in cells} == {"s"}
    with zipfile.ZipFile(io.BytesIO(_written(["a"], [[hostile[0]]]))) as package:
        assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")


def test_characters_xml_cannot_hold_are_dropped_and_edge_spaces_kept():
    sheet = _sheet(_written(["a", "b"], [["bell\x07 and nul\x00 gone", "  padded  "]]))
    assert sheet["A2"].value == "bell and nul gone"
    assert sheet["B2"].value == "  padded  "


def test_booleans_and_other_values_are_worded_by_text_of():
    sheet = _sheet(_written(["a", "b"], [[True, datetime(2026, 1, 2, 3, 4)]], text_of=lambda v: f"<{v}>"))
    assert sheet["A2"].value == "<True>" and sheet["B2"].value == "<2026-01-02 03:04:00>"


def test_not_a_number_is_written_as_text():
    sheet = _sheet(_written(["a", "b"], [[Decimal("NaN"), float("inf")]]))
    assert sheet["A2"].value == "NaN" and sheet["B2"].value == "inf"


def test_columns_past_z_and_short_rows():
    headers = [f"h{i}" for i in range(30)]
    sheet = _sheet(_written(headers, [list(range(30)), [1]]))
    assert sheet["AD1"].value == "h29" and sheet["AD2"].value == 29 and sheet["B3"].value is None
    assert [xlsx.column_letters(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Orders", "Orders"), ("a/b:c*d?e[f]g\\h", "a b c d e f g h"), ("", "Sheet1"), ("x" * 40, "x" * 31), ('"Q&A"', '"Q&A"')],
)
def test_sheet_names_are_made_valid(title, expected):
    assert _sheet(_written(["a"], [[1]], title=title)).title == expected


def test_more_rows_than_a_sheet_holds_is_refused(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)
    assert xlsx.write_xlsx(io.BytesIO(), headers=["a"], rows=[[1], [2], [3]], sheet_title="x") == 3
    with pytest.raises(xlsx.TooManyRows):
        xlsx.write_xlsx(io.BytesIO(), headers=["a"], rows=[[1], [2], [3], [4]], sheet_title="x")


def test_an_export_beyond_the_limit_answers_400_with_a_message(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    monkeypatch.setattr("config.exports.MAX_ROWS", 3)
    response = export_xlsx(filename="x.xlsx", headers=["a"], rows=[[1], [2], [3]])
    assert response.status_code == 400 and "CSV" in json.loads(response.content)["error"]


def test_many_rows_stream_without_holding_them():
    rows = ([f"SO-{n}", Decimal(n) / 100, date(2026, 1, 1)] for n in range(30_000))
    data = _written(["n", "amount", "day"], rows)
    sheet = _sheet(data)
    assert (
        sheet.max_row == 30_001
        and sheet["A30001"].value == "SO-29999"
        and Decimal(str(sheet["B30001"].value)) == Decimal("299.99")
    )
