"""Home figures: any app adds the numbers its roles watch through HOME_FIGURE_PROVIDERS."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from config.home import HomeFigure
from config.templatetags.figure_tags import figure_value

pytestmark = pytest.mark.django_db


def two_figures(user):
    if not user.groups.filter(name="finance").exists():
        return []
    return [
        HomeFigure(label="Overdue receivables", value=Decimal("12345.5"), kind="money", url="/billing/", role="finance"),
        HomeFigure(label="Collected", value=None, kind="money", note="Month to date", role="finance"),
    ]


def test_home_shows_the_figures_its_providers_offer_to_this_user(client_as, settings):
    settings.HOME_FIGURE_PROVIDERS = ["config.tests.test_home_figures.two_figures"]
    body = client_as("finance").get(reverse("home")).content.decode()
    assert "Overdue receivables" in body and "12,345.50" in body and 'href="/billing/"' in body
    assert "Month to date" in body and "–" in body  # a figure not known yet reads as a dash


def test_home_without_figures_for_the_role_shows_no_figure_strip(client_as, settings):
    settings.HOME_FIGURE_PROVIDERS = ["config.tests.test_home_figures.two_figures"]
    body = client_as("warehouse").get(reverse("home")).content.decode()
    assert "home-figures" not in body


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (Decimal("1234567.891"), "money", "1,234,567.89"),
        (Decimal("0.875"), "percent", "87.5 %"),
        (1500, "int", "1,500"),
        (Decimal("3.25"), "days", "3.2 days"),
        (None, "money", "–"),
        ("abc", "int", "–"),
    ],
)
def test_figure_values_read_by_kind(value, kind, shown):
    assert figure_value(value, kind) == shown
