"""How the RFM segments read: a sentence for each and a badge colour (the code is stored, the words come when shown)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Segment

_DESCRIPTIONS = {
    Segment.CHAMPIONS: _("Ordered recently, often and for much."),
    Segment.LOYAL: _("Orders often, and not long ago."),
    Segment.PROMISING: _("Ordered recently, but not yet often or for much."),
    Segment.NEED_ATTENTION: _("Neither recent nor frequent enough: worth a call."),
    Segment.AT_RISK: _("Used to order often or for much, but not lately."),
    Segment.HIBERNATING: _("Few, small orders, and the last one long ago."),
    Segment.LOST: _("No order in the last 12 months."),
    Segment.NO_ORDERS: _("Has never had an order approved."),
}

# Badge classes of the app's status colours (static/css/app.css): green good, blue growing, yellow and orange
# a reason to act, grey asleep, red gone.
_BADGES = {
    Segment.CHAMPIONS: "status status-completed",
    Segment.LOYAL: "status status-completed",
    Segment.PROMISING: "status status-approved",
    Segment.NEW: "status status-approved",
    Segment.NEED_ATTENTION: "status status-submitted",
    Segment.AT_RISK: "status status-backordered",
    Segment.HIBERNATING: "status status-draft",
    Segment.LOST: "status status-cancelled",
    Segment.NO_ORDERS: "status status-draft",
}

# The order segments are listed in: from the best to those without orders.
SEGMENT_ORDER = [
    Segment.CHAMPIONS,
    Segment.LOYAL,
    Segment.PROMISING,
    Segment.NEW,
    Segment.NEED_ATTENTION,
    Segment.AT_RISK,
    Segment.HIBERNATING,
    Segment.LOST,
    Segment.NO_ORDERS,
]


def new_customer_days() -> int:
    """A customer whose first order is at most this many days old is new (settings.NEW_CUSTOMER_DAYS)."""
    return getattr(settings, "NEW_CUSTOMER_DAYS", 90)


def segment_label(code: str) -> str:
    return str(Segment(code).label) if code in Segment.values else code


def segment_labels() -> dict[str, str]:
    """Every segment's name in the reader's language, worded once (for tables of thousands of customers)."""
    return {code: str(label) for code, label in Segment.choices}


def segment_description(code: str) -> str:
    """What the segment means, in the reader's language."""
    if code == Segment.NEW:
        return gettext("First order in the last %(days)s days.") % {"days": new_customer_days()}
    return str(_DESCRIPTIONS.get(code, ""))


def segment_badge(code: str) -> str:
    return _BADGES.get(code, "status")
