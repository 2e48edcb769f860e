"""One term per concept: the zh-Hans catalogue uses the glossary's term, never a variant it rules out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.po import read_po

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "GLOSSARY.md"
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@dataclass
class Term:
    english: str
    chinese: str
    forbidden: list[re.Pattern]
    notes: str = ""


def read_glossary(path=GLOSSARY) -> list[Term]:
    """The rows of the glossary's tables: | English | zh-Hans | Not | Notes |."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or cells[0] in ("English", "---"):
            continue
        variants = [v.strip() for v in cells[2].split("、") if v.strip()]
        forbidden = [
            re.compile(v[1:-1]) if len(v) > 2 and v.startswith("/") and v.endswith("/") else re.compile(re.escape(v))
            for v in variants
        ]
        terms.append(Term(cells[0], cells[1], forbidden, cells[3] if len(cells) > 3 else ""))
    return terms


def glossary_violations(entries, terms) -> list[str]:
    found = []
    for entry in entries:
        if entry.obsolete or not entry.msgid:
            continue
        for msgstr in entry.msgstrs.values():
            for term in terms:
                for pattern in term.forbidden:
                    if match := pattern.search(msgstr):
                        found.append(
                            f"{entry.msgid!r} -> {msgstr!r}: {match.group()!r} is not our word for "
                            f"{term.english!r} (use {term.chinese}{'; ' + term.notes if term.notes else ''})"
                        )
    return found


def test_the_glossary_is_readable_and_its_terms_are_not_ruled_out():
    terms = read_glossary()
    assert len(terms) >= 50
    english = [term.english for term in terms]
    assert len(english) == len(set(english)), "a concept is listed twice"
    for must in ["order", "draft", "approve", "backordered", "reservation", "stock count", "transfer", "replenishment",
                 "shipment", "waybill", "carrier", "invoice", "credit note", "payment", "refund", "customer",
                 "credit limit", "payment terms", "email", "phone", "warehouse", "on hand", "available"]:  # fmt: skip
        assert any(re.match(rf"{re.escape(must)}\b", e) for e in english), f"the glossary has no row for {must!r}"
    for term in terms:
        for pattern in term.forbidden:
            assert not pattern.search(term.chinese), f"{term.english}: {term.chinese} uses its own ruled-out {pattern.pattern}"


def test_a_ruled_out_variant_is_found():
    terms = read_glossary()
    entries = read_po_text('msgid "Email"\nmsgstr "电子邮件"\n\nmsgid "Phone or email"\nmsgstr "电话或邮箱"\n')
    found = glossary_violations(entries, terms)
    assert len(found) == 2 and "电子邮件" in found[0] and "邮箱" in found[1]
    assert not glossary_violations(read_po_text('msgid "Email"\nmsgstr "电子邮箱"\n'), terms)


def test_the_catalogue_uses_one_term_per_concept():
    found = glossary_violations(read_po(CATALOGUE), read_glossary())
    assert not found, f"{len(found)} translations use a variant docs/GLOSSARY.md rules out:\n" + "\n".join(found)


def read_po_text(text: str):
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".po", encoding="utf-8", delete=False) as handle:
        handle.write(text)
    return read_po(handle.name)
