"""A small reader of gettext .po files, enough to check a catalogue's completeness and its terms."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass
class Entry:
    msgctxt: str = ""
    msgid: str = ""
    msgid_plural: str = ""
    msgstrs: dict = field(default_factory=dict)
    flags: set = field(default_factory=set)
    obsolete: bool = False
    where: str = ""


def read_po(path) -> list[Entry]:
    entries: list[Entry] = []
    entry = Entry()
    target = None
    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line:
            if entry.msgid or entry.msgstrs:
                entries.append(entry)
            entry, target = Entry(), None
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#:"):
            entry.where = entry.where or line[2:].strip()
            continue
        if line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if target == "msgctxt":
                entry.msgctxt += value
            elif target == "msgid":
                entry.msgid += value
            elif target == "msgid_plural":
                entry.msgid_plural += value
            else:
                entry.msgstrs[target] += value
            continue
        value = ast.literal_eval(rest)
        if key == "msgctxt":
            target, entry.msgctxt = "msgctxt", value
        elif key == "msgid":
            target, entry.msgid = "msgid", value
        elif key == "msgid_plural":
            target, entry.msgid_plural = "msgid_plural", value
        elif key.startswith("msgstr"):
            target = key
            entry.msgstrs[key] = value
    if entry.msgid or entry.msgstrs:
        entries.append(entry)
    return entries


def problems(entries: list[Entry]) -> list[str]:
    """Untranslated or fuzzy entries (the header, msgid "", is skipped)."""
    found = []
    for entry in entries:
        if entry.obsolete or entry.msgid == "":
            continue
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {entry.msgid!r} ({entry.where})")
        elif not entry.msgstrs or any(not s for s in entry.msgstrs.values()):
            found.append(f"untranslated: {entry.msgid!r} ({entry.where})")
    return found
