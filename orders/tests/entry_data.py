"""The POST data of the order entry form, as the browser sends it."""

from __future__ import annotations

from config.submissions import TOKEN_FIELD, submission_token_new
from orders.entry.forms import line_data


def entry_post(*, customer=None, address=None, lines=(), action: str = "save", version=None, **fields) -> dict:
    """lines: (product, quantity, unit_price, discount) tuples, or dicts of raw strings."""
    rows = []
    for line in lines:
        if isinstance(line, dict):
            rows.append(line)
            continue
        product, quantity, unit_price, discount = line
        rows.append(
            {
                "product": str(product.pk),
                "quantity": str(quantity),
                "unit_price": str(unit_price),
                "discount_percent": str(discount),
            }
        )
    data = {
        "customer": str(customer.pk) if customer else "",
        "shipping_address": str(address.pk) if address else "",
        "contact": "",
        "channel": "phone",
        "customer_po": "",
        "requested_date": "",
        "notes": "",
        "action": action,
        # A fresh one-time token, as the rendered form carries it (config.submissions).
        TOKEN_FIELD: submission_token_new(),
        **line_data(rows),
    }
    if version is not None:
        data["version"] = str(version)
    data.update({key: str(value) for key, value in fields.items()})
    return data
