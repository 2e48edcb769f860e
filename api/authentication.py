"""Who calls the API: a channel client by its bearer token, or a signed-in member of staff by the session."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api.models import ApiClient
from api.services import api_client_touch, client_actor, token_digest
from config.actors import Actor


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`: the client whose token's SHA-256 matches, unless revoked."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None  # no token: the session may still identify a member of staff
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be “Bearer <token>”."))
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        client = ApiClient.objects.select_related("user").filter(token_hash=token_digest(token)).first()
        if client is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."), code="token_revoked")
        api_client_touch(client=client)
        return client.user, client

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes the token (drf-spectacular finds it by subclassing)."""

    target_class = BearerTokenAuthentication
    name = "channelToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A channel client's token, created by a manager (API clients page) or by "
            "`manage.py create_api_client`; sent as `Authorization: Bearer <token>`.",
        }


def request_actor(request) -> Actor:
    """The actor behind an authenticated API request: the client as a channel, or the user."""
    if isinstance(request.auth, ApiClient):
        return client_actor(request.auth)
    return Actor.of(request.user)


def request_client(request) -> ApiClient | None:
    return request.auth if isinstance(request.auth, ApiClient) else None
