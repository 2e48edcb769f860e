"""Every endpoint names the permission it needs per method; a client has it through its scopes, a user through roles."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from api.authentication import request_actor


class ActorHasPermission(BasePermission):
    """The view's `required_permissions[method]` (all of them) must be held by the client or the user."""

    message = _("Your token's scopes or your role do not allow this.")

    def has_permission(self, request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            return False
        if request.method.lower() not in view.http_method_names or not hasattr(view, request.method.lower()):
            return True  # the view has no such method: DRF answers 405 next
        needed = getattr(view, "required_permissions", {}).get(request.method)
        if needed is None:
            # A method the view serves but does not declare: only OPTIONS, which DRF answers itself.
            return request.method == "OPTIONS"
        actor = request_actor(request)
        return all(actor.has_perm(permission) for permission in needed)
