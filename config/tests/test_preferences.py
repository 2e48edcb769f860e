"""A user's language: chosen with the header's switch, kept for what the app e-mails them later."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.models import UserPreference
from config.preferences import user_language, user_languages

pytestmark = pytest.mark.django_db


def test_switching_language_while_signed_in_keeps_the_choice(client_as):
    client = client_as("manager")
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert user_language(client.user) == "zh-hans"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert UserPreference.objects.get(user=client.user).language == "en"


def test_an_unknown_language_is_not_kept(client_as):
    client = client_as("manager")
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert not UserPreference.objects.filter(user=client.user).exists()


def test_switching_language_signed_out_still_works_and_keeps_nothing(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert UserPreference.objects.count() == 0


def test_who_never_chose_reads_the_site_language(make_user, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    chose, did_not = make_user("manager"), make_user("manager")
    UserPreference.objects.create(user=chose, language="en")
    assert user_languages(user_ids=[chose.pk, did_not.pk]) == {chose.pk: "en", did_not.pk: "zh-hans"}
