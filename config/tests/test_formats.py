"""Amounts read the same way in both languages: grouped by thousands with a comma."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.utils import translation


def test_amounts_are_grouped_by_thousands_in_chinese_and_english():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert intcomma(Decimal("1234567.89")) == "1,234,567.89"
            assert intcomma(Decimal("-999.00")) == "-999.00"
            assert Template("{% load humanize %}{{ v|intcomma }}").render(Context({"v": Decimal("12000.5")})) == "12,000.5"


def test_chinese_dates_keep_their_own_format():
    from datetime import date

    with translation.override("zh-hans"):
        assert Template("{{ d|date }}").render(Context({"d": date(2026, 11, 30)})) == "2026年11月30日"
