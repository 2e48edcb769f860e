from __future__ import annotations

from .navigation import navigation_areas_for


def navigation(request) -> dict:
    """The main navigation's areas (each a menu) and, flat, their entries."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_areas": [], "nav_items": []}
    areas = navigation_areas_for(user, request.path)
    return {"nav_areas": areas, "nav_items": [item for area in areas for item in area["items"]]}
