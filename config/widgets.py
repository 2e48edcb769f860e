"""Form widgets the pages share."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms


class ZeroAsEmptyNumberInput(forms.NumberInput):
    """A number field where nothing and zero mean the same (a discount): zero shows as empty, with "0" as placeholder.

    A clerk who tabs into a field showing "0" and types 10 gets 100 unless the text is selected;
    an empty field cannot be typed onto. The form treats an empty value as zero.
    """

    def __init__(self, attrs=None):
        super().__init__({"placeholder": "0", "data-select-on-focus": "", **(attrs or {})})

    def format_value(self, value):
        try:
            if value not in (None, "") and Decimal(str(value)) == 0:
                return None
        except InvalidOperation:
            pass  # what the clerk typed, shown back as it was
        return super().format_value(value)
