"""django-filter pieces every list page shares, worded in the reader's language."""

from __future__ import annotations

import django_filters
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class SortFilter(django_filters.OrderingFilter):
    """A sort menu whose every label, "(descending)" ones included, is translated when the page is shown.

    django-filter words each descending label once, at import, as "<label> (descending)" in the
    language active then (English), so a Chinese page showed "Number (descending)".
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("Default order"))
        super().__init__(*args, **kwargs)

    def build_choices(self, fields, labels):
        choices = []
        for field, param in fields.items():
            if field not in labels:  # a label made up from the field's name would stay English
                raise ValueError(f"SortFilter: give {field!r} a translated label in field_labels")
            label = labels[field]
            choices.append((param, label))
            choices.append((f"-{param}", labels.get(f"-{param}", format_lazy(_("{label} (descending)"), label=label))))
        return choices
