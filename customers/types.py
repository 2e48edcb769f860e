"""Small records other apps hand to customers' pages (customers never imports those apps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class PanelCell:
    """One value of a panel: text as shown, optionally a link, a status badge or a figure."""

    text: str
    url: str = ""
    badge: str = ""  # CSS classes of a badge around the text, e.g. "status status-approved"
    numeric: bool = False


@dataclass(frozen=True)
class PanelColumn:
    label: str
    numeric: bool = False


@dataclass
class CustomerPanel:
    """A section of the customer 360 page provided by a higher app, named in settings.CUSTOMER_PAGE_PANELS.

    A provider is `provider(*, customer, user) -> CustomerPanel | None` (None: nothing this user may see).
    `exposure` is what the app adds to the customer's credit exposure, `exposure_note` says what it counts.
    """

    key: str  # the section's id on the page
    title: str
    count: int | None = None
    chips: list[PanelCell] = field(default_factory=list)
    columns: list[PanelColumn] = field(default_factory=list)
    rows: list[list[PanelCell]] = field(default_factory=list)
    empty_text: str = ""
    footnote: str = ""
    exposure: Decimal | None = None
    exposure_note: str = ""
