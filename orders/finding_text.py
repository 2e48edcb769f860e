"""The words of a review finding, written from its figures in the reader's language.

A finding stores its figures; the sentence is made when it is shown, so a reviewer reading in
Chinese sees Chinese whatever language the checks ran in. The stored message is the fallback
for figures written before a sentence needed them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MISSING = {
    "shipping_address": gettext_lazy("a shipping address"),
    "contact": gettext_lazy("a contact with a phone number or email (or the customer's phone or email)"),
    "lines": gettext_lazy("at least one line"),
}


def _completeness(f: dict) -> str:
    missing = "; ".join(str(MISSING[key]) for key in f["missing"])
    return _("The order is incomplete: it lacks %(missing)s.") % {"missing": missing}


def _price(f: dict) -> str:
    values = {
        "position": f["line"],
        "product": f["product"],
        "net": f["net_unit_price"],
        "list": f["list_price"],
        "discount": f["below_list_percent"],
        "allowed": f["allowed_discount_percent"],
        "floor": f["lowest_allowed_price"],
    }
    reasons = []
    if f["below_sales"]:
        reasons.append(_("%(discount)s %% below list price %(list)s, more than the %(allowed)s %% sales may give") % values)
    if f["below_floor"]:
        reasons.append(_("below the product's lowest allowed price %(floor)s") % values)
    return _("Line %(position)s (%(product)s): net unit price %(net)s is %(reasons)s.") % {
        **values,
        "reasons": _(" and ").join(reasons),
    }


def _amount(f: dict) -> str:
    return _("The total %(total)s %(currency)s is above the review threshold of %(threshold)s.") % f


def _blocked(f: dict) -> str:
    return _("The customer %(customer)s is blocked: %(reason)s") % {"customer": f["customer_name"], "reason": f["reason"]}


def _credit(f: dict) -> str:
    return _("Credit exposure with this order is %(exposure)s, %(over)s over the credit limit of %(limit)s.") % {
        "exposure": f["exposure"],
        "over": f["over_limit"],
        "limit": f["credit_limit"],
    }


def _overdue(f: dict) -> str:
    return _("The customer has %(count)s invoice(s) overdue by more than %(days)s days (%(numbers)s), %(balance)s open.") % {
        "count": len(f["invoices"]),
        "days": f["days"],
        "numbers": ", ".join(f["invoices"]),
        "balance": f["balance"],
    }


def _stock(f: dict) -> str:
    return _("%(product)s: %(ordered)s ordered, %(available)s available, %(shortfall)s short.") % f


SENTENCES = {
    "completeness": _completeness,
    "price": _price,
    "amount": _amount,
    "blocked": _blocked,
    "credit": _credit,
    "overdue": _overdue,
    "stock": _stock,
}


def finding_text(*, rule: str, figures: dict) -> str | None:
    """The finding's sentence in the active language, or None when its figures cannot make one."""
    sentence = SENTENCES.get(rule)
    if sentence is None:
        return None
    try:
        return sentence(figures)
    except (KeyError, TypeError):
        return None
