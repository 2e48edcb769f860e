"""Each user's own choices: the language they read the app in, which is also the language of what it e-mails them.

The language switcher in the header records the choice of a signed-in user (config.views.set_language), so
mail sent later by a worker (the nightly report) reaches them in the language they read the pages in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from .models import UserPreference


def supported_language(language: str | None) -> str | None:
    """The language code if it is one of the site's languages, else None."""
    return language if language in dict(settings.LANGUAGES) else None


def user_language_set(*, user, language: str) -> UserPreference | None:
    """Remember the language the user chose; an unknown code is ignored (None)."""
    if supported_language(language) is None:
        return None
    preference, _created = UserPreference.objects.update_or_create(user=user, defaults={"language": language})
    return preference


def user_languages(*, user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's language, the site's language for those who never chose one (or chose one no longer offered)."""
    user_ids = list(dict.fromkeys(user_ids))
    chosen = dict(UserPreference.objects.filter(user_id__in=user_ids).values_list("user_id", "language"))
    return {pk: supported_language(chosen.get(pk)) or settings.LANGUAGE_CODE for pk in user_ids}


def user_language(user) -> str:
    """The user's language (the site's language when they never chose one)."""
    return user_languages(user_ids=[user.pk])[user.pk]
