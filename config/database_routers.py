"""Where queries go: the reads of the apps in settings.REPLICA_READ_APPS (the reports) to the "replica"
database when DATABASE_REPLICA_URL configures one; every write, and everything else, to the primary."""

from __future__ import annotations

from django.conf import settings

REPLICA = "replica"


class ReplicaRouter:
    """Reports read from the replica (their pages scan large snapshot tables); the primary keeps the writes."""

    def db_for_read(self, model, **hints):
        if REPLICA in settings.DATABASES and model._meta.app_label in settings.REPLICA_READ_APPS:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: rows read from either may refer to each other.
        databases = {obj1._state.db, obj2._state.db}
        return True if databases <= {"default", REPLICA} else None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A replica follows the primary's schema; migrations run on the primary only.
        return False if db == REPLICA else None
