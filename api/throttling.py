"""Rate limits: each client its own requests per minute; signed-in staff share one setting (the cache counts)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiClient


class ClientRateThrottle(SimpleRateThrottle):
    """A sliding minute per client (its rate_limit_per_minute) or per user (API_USER_RATE_PER_MINUTE)."""

    scope = "api"
    cache_format = "api-throttle:%(ident)s"

    def __init__(self):  # the rate is per client, read per request: nothing to parse from settings
        self.rate = None

    def allow_request(self, request, view) -> bool:
        client = request.auth if isinstance(request.auth, ApiClient) else None
        if client is not None:
            self.num_requests, ident = client.rate_limit_per_minute, f"client-{client.pk}"
        elif request.user is not None and request.user.is_authenticated:
            self.num_requests, ident = int(settings.API_USER_RATE_PER_MINUTE), f"user-{request.user.pk}"
        else:
            self.num_requests, ident = int(settings.API_ANON_RATE_PER_MINUTE), f"ip-{self.get_ident(request)}"
        self.duration = 60
        self.rate = f"{self.num_requests}/min"
        self._ident = ident
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"ident": self._ident}
