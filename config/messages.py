"""Flash messages: Django's storage (a signed cookie, the session for what does not fit), keeping the latest few.

Messages wait for the next page that shows them. A client that posts again and again without opening that
page (a script, a form submitted from several tabs) would pile them up: every request then decodes, re-signs
and re-compresses hundreds of them, and the page that finally shows them lists them all. Only the latest
MESSAGES_KEPT are kept; older ones were never going to be read.
"""

from __future__ import annotations

from django.contrib.messages.storage.fallback import FallbackStorage

MESSAGES_KEPT = 10


class RecentMessagesStorage(FallbackStorage):
    def _store(self, messages, response, *args, **kwargs):
        return super()._store(messages[-MESSAGES_KEPT:], response, *args, **kwargs)
