"""python manage.py import_bank_statement FILE [--account CODE] [--format auto|camt053|mt940|csv]

Does what the import page does (as the system's "import" actor, or as --user) and prints what it
imported, skipped and matched. Exit status 1 when the file is refused; nothing is written then.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from billing.bank.models import BankAccount, BankFileMapping
from billing.bank.parsing.formats import FORMATS
from billing.bank.services import bank_file_import, max_file_bytes
from billing.bank.tasks import exact_matches_kick
from config.actors import Actor
from config.errors import DomainError


class Command(BaseCommand):
    help = "Import a bank statement file (camt.053, MT940, bank CSV/XLSX) and match its lines to invoices."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the statement file")
        parser.add_argument("--account", help="the bank account's code (when the file does not name it, or to check it)")
        parser.add_argument("--format", default="auto", choices=list(FORMATS), help="the file's format (default: recognised)")
        parser.add_argument("--mapping", help="the name of a saved column mapping for a CSV/XLSX export")
        parser.add_argument("--user", help="import as this user (default: the system's import)")
        parser.add_argument("--no-auto-apply", action="store_true", help="only suggest matches, apply none")
        parser.add_argument(
            "--background", action="store_true", help="leave a large batch of exact matches to a worker, as the page does"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > max_file_bytes():
            raise CommandError(f"The file is too large (at most {max_file_bytes() // (1024 * 1024)} MB).")
        account = None
        if options["account"]:
            account = BankAccount.objects.filter(code=options["account"]).first()
            if account is None:
                raise CommandError(f"No bank account with code {options['account']}.")
        mapping = None
        if options["mapping"]:
            mapping = BankFileMapping.objects.filter(name=options["mapping"]).first()
            if mapping is None:
                raise CommandError(f"No column mapping named {options['mapping']}.")
        actor = Actor.system("import")
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']}.")
            actor = Actor.of(user)
        try:
            summary = bank_file_import(
                raw=path.read_bytes(),
                filename=path.name,
                actor=actor,
                account=account,
                file_format=options["format"],
                mapping=mapping,
                auto_apply=False if options["no_auto_apply"] else None,
                inline=True if options["background"] else False,
            )
        except DomainError as error:
            raise CommandError(str(error))
        if summary.already_imported:
            self.stdout.write(f"Already imported on {summary.bank_import.imported_at:%Y-%m-%d %H:%M}: nothing added.")
        self.stdout.write(f"imported: {summary.imported}")
        self.stdout.write(f"skipped: {summary.skipped}")
        self.stdout.write(f"matched: {summary.matched}")
        self.stdout.write(f"suggested: {summary.suggested}")
        if summary.pending:
            exact_matches_kick(summary.bank_import)
            self.stdout.write(f"being matched in the background: {summary.pending}")
        for statement in summary.warnings:
            self.stdout.write(
                self.style.WARNING(
                    f"warning: statement {statement} of {statement.account.code}: opening {statement.opening_balance}"
                    f" + lines {statement.movement} != closing {statement.closing_balance}"
                )
            )
