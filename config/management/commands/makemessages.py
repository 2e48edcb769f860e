from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """makemessages without msgmerge's guesses: a new string stays empty until someone translates
    it, instead of borrowing a look-alike's translation marked fuzzy."""

    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
