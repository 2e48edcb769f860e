"""Demo data of the channel API: one web shop client, its token printed once (when it is created)."""

from __future__ import annotations

from api.models import ApiClient
from api.scopes import SCOPES
from api.services import api_client_create
from config.actors import Actor
from orders.models import Channel

DEMO_CLIENT = "Demo web shop"


def seed(*, stdout=None, **kwargs) -> None:
    """Create the demo client unless it exists; its token can only be shown now."""
    if ApiClient.objects.filter(name=DEMO_CLIENT).exists():
        return
    _client, token = api_client_create(
        name=DEMO_CLIENT, channel=Channel.WEB_SHOP, scopes=list(SCOPES), rate_limit_per_minute=600, by=Actor.system("demo")
    )
    if stdout is not None:
        stdout.write(f"API client “{DEMO_CLIENT}” (web shop): token {token}  (shown once; revoke it on the API clients page)")
