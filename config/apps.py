from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ConfigConfig(AppConfig):
    """Cross-cutting pieces: roles, home pages, health, demo data."""

    name = "config"
    verbose_name = _("System")

    def ready(self) -> None:
        from django.core import checks

        from .documents import check_cjk_fonts
        from .fsm import make_fsm_refresh_thread_safe
        from .roles import sync_roles_after_migrate

        checks.register(check_cjk_fonts)
        make_fsm_refresh_thread_safe()  # threaded workers reload protected state fields safely

        # Runs after every migrate, so permissions that later migrations add reach their roles.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="config.sync_roles")

        # The empty choice of every select: Django's own zh-Hans catalogue has no translation of it,
        # so ours words it (an app's ready() is where Django says to set it).
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = _("- Select an option -")
