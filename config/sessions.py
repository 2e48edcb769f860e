"""Sessions in the database, as Django's `db` engine keeps them, read with a statement built once.

Every request reads its session; Django's engine builds that query through the ORM each time. Here the
row is read by its key with config.rows and an expired one is treated as missing, exactly as before.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.utils import timezone

from .rows import rows_fetch


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        found = rows_fetch(self.model, where={"session_key": self.session_key})
        if not found or found[0].expire_date <= timezone.now():
            self._session_key = None
            return None
        return found[0]
