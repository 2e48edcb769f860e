"""Fill empty zh-Hans translations from a JSON object {msgid: msgstr} (for plurals, a list).

    python scripts/po_fill.py translations.json [path/to/django.po]

Only empty or fuzzy entries are filled; existing translations are kept. The catalogue is
locked while it is rewritten, so two people filling at once do not lose each other's work.
"""

from __future__ import annotations

import ast
import fcntl
import json
import sys
from pathlib import Path

DEFAULT_PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def fill(po_path: Path, translations: dict) -> int:
    with open(po_path, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        blocks = handle.read().split("\n\n")
        filled = 0
        for i, block in enumerate(blocks):
            lines = block.split("\n")
            msgid, target, parts = None, None, {}
            for line in lines:
                if line.startswith("#"):
                    continue
                if line.startswith('"') and target:
                    parts[target] += ast.literal_eval(line)
                elif line.startswith(("msgid ", "msgid_plural ", "msgstr")):
                    key, _, rest = line.partition(" ")
                    target = key
                    parts[key] = ast.literal_eval(rest)
            msgid = parts.get("msgid")
            if not msgid or msgid not in translations:
                continue
            fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
            strs = [v for k, v in parts.items() if k.startswith("msgstr")]
            if strs and all(strs) and not fuzzy:
                continue
            value = translations[msgid]
            head = [ln for ln in lines if ln.startswith("#") and not (ln.startswith("#,") and "fuzzy" in ln)]
            head += [ln for ln in lines if ln.startswith("#,") and "fuzzy" in ln and ln.replace("fuzzy", "").strip("#, ")]
            head = [ln.replace(", fuzzy", "").replace("fuzzy, ", "") if ln.startswith("#,") else ln for ln in head]
            body = [f"msgid {quote(msgid)}"]
            if "msgid_plural" in parts:
                body.append(f"msgid_plural {quote(parts['msgid_plural'])}")
                values = value if isinstance(value, list) else [value]
                body += [f"msgstr[{n}] {quote(v)}" for n, v in enumerate(values)]
            else:
                body.append(f"msgstr {quote(value if isinstance(value, str) else value[0])}")
            blocks[i] = "\n".join(head + body)
            filled += 1
        handle.seek(0)
        handle.write("\n\n".join(blocks))
        handle.truncate()
    return filled


if __name__ == "__main__":
    source = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    po = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_PO
    print(f"filled {fill(po, source)} entries in {po}")
