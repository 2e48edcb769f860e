from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from config.demo import seed_users
from config.outbox import outbox_dispatch

# Demo orders are approved, alerts raised...: the e-mails they would send go nowhere. With the console
# backend (no EMAIL_HOST) they would bury the command's own output under a hundred messages.
DEMO_MAILERS = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}


class Command(BaseCommand):
    help = "Create demo users and demo data; running it again changes nothing that exists."

    def handle(self, *args, **options):
        with override_settings(MAILERS=DEMO_MAILERS):
            self.seed()
        self.stdout.write(self.style.SUCCESS("Demo data is in place. Log in as sales / sales-demo (see README)."))

    def seed(self) -> None:
        with transaction.atomic():
            users = seed_users()
        for path in settings.DEMO_SEEDERS:
            seeder = import_string(path)  # a seeder that moved fails loudly, never silently seeds nothing
            with transaction.atomic():
                seeder(users=users, stdout=self.stdout)
            # What a seeder's transactions set off (checks, allocation) is done before the next one
            # reads the data, whether or not a worker is running.
            outbox_dispatch(limit=100_000)
