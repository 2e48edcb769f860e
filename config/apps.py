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
        from .numbering import create_sequences_after_migrate
        from .roles import sync_roles_after_migrate

        checks.register(check_cjk_fonts)
        make_fsm_refresh_thread_safe()  # threaded workers reload protected state fields safely

        # Runs after every migrate, so permissions that later migrations add reach their roles.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="config.sync_roles")
        # This year's number sequences exist before the first document needs one.
        post_migrate.connect(create_sequences_after_migrate, sender=self, dispatch_uid="config.number_sequences")

        # The empty choice of every select: Django's own zh-Hans catalogue has no translation of it,
        # so ours words it (an app's ready() is where Django says to set it).
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = _("- Select an option -")
