"""Run in a subprocess on the embedded default (SQLite, no Redis): every menu page as every demo user.

Prints one line per page that answered with a server error (or raised), then "checked N pages".
Used by tests/test_embedded_default.py; the database is the one `migrate` and `seed_demo` just made.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from config.demo import DEMO_USERS  # noqa: E402
from config.navigation import navigation_for  # noqa: E402


def main() -> int:
    checked, failures = 0, []
    for username, *_rest in DEMO_USERS:
        user = get_user_model().objects.get(username=username)
        for language in ("en", "zh-hans"):
            client = Client(raise_request_exception=False, HTTP_HOST="localhost")
            client.force_login(user)
            client.cookies["django_language"] = language
            for entry in [{"url": "/"}, *navigation_for(user, "/")]:
                for query in ("", "?q=%E5%8D%8E"):
                    url = entry["url"] + query
                    try:
                        status = client.get(url, HTTP_ACCEPT_LANGUAGE=language).status_code
                    except Exception:  # noqa: BLE001 - every failure is reported, then the test fails
                        failures.append(f"{username} {language} {url}: {traceback.format_exc(limit=3)}")
                        continue
                    checked += 1
                    if status >= 500:
                        failures.append(f"{username} {language} {url}: {status}")
    for failure in failures:
        print("FAILED", failure)
    print(f"checked {checked} pages")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
