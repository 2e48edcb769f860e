"""Who acts: a signed-in user, a sales channel (API client) or the system under a name.

Services take an actor and never skip the permission check for anyone but the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

# The system's names, worded when shown (never stored translated).
SYSTEM_NAMES = {
    "automatic_checks": _("automatic checks"),
    "allocation": _("automatic allocation"),
    "stock_count": _("stock count"),
    "sweeper": _("stuck-order sweeper"),
    "ledger_check": _("nightly ledger check"),
    "import": _("import"),
    "demo": _("demo data"),
    "tracking": _("carrier tracking"),
    "dunning": _("dunning run"),
    "statement_link": _("the customer, through the statement link"),
    "system": _("system"),
}


@dataclass(frozen=True)
class Actor:
    """One of: a user (`user`), a channel (`channel`, with its own permissions) or the system (`name`)."""

    kind: str  # "user" | "channel" | "system"
    user: Any = None
    name: str = ""
    permissions: frozenset[str] = frozenset()

    @classmethod
    def of(cls, who: Actor | Any) -> Actor:
        """An Actor as is, or a Django user wrapped as one; None is refused (no silent system)."""
        if isinstance(who, Actor):
            return who
        if who is None or not getattr(who, "is_authenticated", False):
            raise ValueError("an action needs an actor: a user, a channel or Actor.system(name)")
        return cls(kind="user", user=who)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        if name not in SYSTEM_NAMES:
            raise ValueError(f"unknown system actor {name!r}")
        return cls(kind="system", name=name)

    @classmethod
    def channel(cls, name: str, permissions: set[str] | frozenset[str], user: Any = None) -> Actor:
        return cls(kind="channel", name=name, permissions=frozenset(permissions), user=user)

    @property
    def is_system(self) -> bool:
        return self.kind == "system"

    @property
    def user_or_none(self):
        """The user to store as `by` on a record (None for the system)."""
        return self.user if self.kind != "system" else None

    def has_perm(self, permission: str | None) -> bool:
        """The system may do anything; a channel what its scopes grant; a user what their roles grant."""
        if not permission or self.kind == "system":
            return True
        if self.kind == "channel":
            return permission in self.permissions
        return bool(self.user.has_perm(permission))

    def label(self) -> str:
        """How the actor reads on a timeline, in the reader's language."""
        if self.kind == "system":
            return str(SYSTEM_NAMES[self.name])
        if self.kind == "channel":
            return self.name
        return self.user.get_full_name() or self.user.get_username()


def actor_fields(actor: Actor) -> dict[str, Any]:
    """The columns a timeline or ledger row keeps of its actor."""
    return {"by": actor.user_or_none, "actor_kind": actor.kind, "actor_name": actor.name}
