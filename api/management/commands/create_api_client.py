"""`manage.py create_api_client NAME --channel web_shop [--scopes orders:write orders:read] [--rate-limit 120]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from api.scopes import DEFAULT_SCOPES, SCOPES
from api.services import api_client_create
from config.actors import Actor
from config.errors import DomainError
from orders.models import Channel


class Command(BaseCommand):
    help = "Create an API client for a sales channel and print its token (shown this once; only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--channel", choices=Channel.values, default=Channel.WEB_SHOP)
        parser.add_argument("--scopes", nargs="+", choices=list(SCOPES), default=DEFAULT_SCOPES, metavar="SCOPE")
        parser.add_argument("--rate-limit", type=int, default=120, help="Requests per minute.")

    def handle(self, *args, name, channel, scopes, rate_limit, **options):
        try:
            client, token = api_client_create(
                name=name, channel=channel, scopes=scopes, rate_limit_per_minute=rate_limit, by=Actor.system("system")
            )
        except DomainError as refused:
            raise CommandError(str(refused))
        self.stderr.write(f"API client {client.name} ({client.channel}, scopes: {' '.join(client.scopes)}) created.")
        self.stderr.write("Its token, shown this once (only its SHA-256 is kept):")
        self.stdout.write(token)
