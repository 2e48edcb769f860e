"""The login backend: Django's ModelBackend, with a user's permissions read in one statement.

Every request that checks a permission reads the user's own and their groups' permissions; Django's
backend does that in two ORM queries (each joining the content types). Here both come from one raw
statement, each row saying where it came from, and fill the same per-request caches Django's backend
keeps (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache`), so `get_user_permissions`,
`get_group_permissions` and `has_perm` answer exactly as before. Superusers keep Django's path (every
permission). Nothing is cached beyond the request's user object: a permission taken away counts at once.
The signed-in user is read with config.rows (its statement built once), as Django's backend would read it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import router

from .rows import hot_cursor, row_get


def _permissions_sql() -> str:
    user_model = get_user_model()
    own, member, granted = user_model.user_permissions.field, user_model.groups.field, Group.permissions.field
    permission, content_type = Permission._meta.db_table, ContentType._meta.db_table
    return f"""
        SELECT 'user', ct.app_label, p.codename
        FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id
        WHERE p.id IN (
            SELECT {own.m2m_reverse_name()} FROM {own.m2m_db_table()} WHERE {own.m2m_column_name()} = %s
        )
        UNION ALL
        SELECT 'group', ct.app_label, p.codename
        FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id
        WHERE p.id IN (
            SELECT gp.{granted.m2m_reverse_name()} FROM {granted.m2m_db_table()} gp
            JOIN {member.m2m_db_table()} ug ON ug.{member.m2m_reverse_name()} = gp.{granted.m2m_column_name()}
            WHERE ug.{member.m2m_column_name()} = %s
        )
    """


class ModelBackendOneRead(ModelBackend):
    """ModelBackend whose permission reads are one statement per request (see the module), and whose read of
    the signed-in user (every request) is a statement built once."""

    def get_user(self, user_id):
        user = row_get(get_user_model(), user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _read_permissions(self, user_obj) -> None:
        own: set[str] = set()
        groups: set[str] = set()
        # Prepared (config.rows.hot_cursor): PostgreSQL plans this join once per connection, not per request.
        with hot_cursor(router.db_for_read(Permission)) as cursor:
            cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
            for source, app_label, codename in cursor.fetchall():
                (own if source == "user" else groups).add(f"{app_label}.{codename}")
        user_obj._user_perm_cache = own
        user_obj._group_perm_cache = groups

    def _get_permissions(self, user_obj, obj, from_name):
        active = user_obj.is_active and not user_obj.is_anonymous and obj is None
        if active and not user_obj.is_superuser and not hasattr(user_obj, f"_{from_name}_perm_cache"):
            self._read_permissions(user_obj)
        return super()._get_permissions(user_obj, obj, from_name)
