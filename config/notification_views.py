"""The signed-in user's in-app notifications: the list, marking them read, and the unread count.

Each user sees and changes only their own notifications (config/notifications.py filters by
recipient), so someone else's notification is simply not found.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .http import redirect_back, safe_next_url
from .notifications import (
    notification_list,
    notification_mark_all_read,
    notification_mark_read,
    notification_unread_count,
    unread_badge,
)
from .pagination import CappedPaginator

PAGE_SIZE = 25


# --- views ---------------------------------------------------------------------------------------


def notifications_page(request):
    """The user's notifications, unread ones marked, newest first."""
    unread_only = request.GET.get("show") == "unread"
    page = CappedPaginator(notification_list(user=request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "config/notification_list.html",
        {
            "page_obj": page,
            "unread_only": unread_only,
            "unread_count": unread_badge(notification_unread_count(user=request.user)),
        },
    )


@require_POST
def notification_read(request, pk: int):
    """Mark one notification read; with open=1 go on to what it is about."""
    notification = notification_mark_read(user=request.user, notification_id=pk)
    if notification is None:
        messages.error(request, _("That notification does not exist or is not yours."))
        return redirect("notifications:list")
    if request.POST.get("open") and (target := safe_next_url(request, notification.url)):
        return HttpResponseRedirect(target)
    return redirect_back(request, reverse("notifications:list"))


@require_POST
def notification_read_all(request):
    """Mark every notification of the user read."""
    count = notification_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked read."))
    return redirect("notifications:list")


def unread_notifications(request) -> dict:
    """Context processor: the signed-in user's unread count, queried only when a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notification_count": 0}
    return {"unread_notification_count": SimpleLazyObject(lambda: unread_badge(notification_unread_count(user=user)))}


app_name = "notifications"
urlpatterns = [
    path("", notifications_page, name="list"),
    path("<int:pk>/read/", notification_read, name="read"),
    path("read-all/", notification_read_all, name="read_all"),
]
