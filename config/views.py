from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import set_language as django_set_language

from .home import home_figures_for, work_queues_for
from .models import WorkerHeartbeat
from .preferences import user_language_set
from .roles import ROLE_LABELS, user_roles


def home(request):
    """Each signed-in user's home: the figures and work queues of the roles they hold."""
    held = user_roles(request.user)
    roles = [label for name, label in ROLE_LABELS.items() if name in held] + sorted(held - ROLE_LABELS.keys())
    context = {"figures": home_figures_for(request.user), "queues": work_queues_for(request.user), "roles": roles}
    return render(request, "config/home.html", context)


@login_not_required
def set_language(request):
    """Django's language switch; a signed-in user's choice is also kept, for what the app e-mails them later."""
    response = django_set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        user_language_set(user=request.user, language=request.POST.get("language", ""))
    return response


def _database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # any failure means "down" to a health check
        return False, f"error: {exc.__class__.__name__}"


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Database, broker and worker heartbeat; 503 when the database does not answer."""
    db_ok, db_status = _database_status()
    heartbeat = None
    heartbeat_age = None
    if db_ok:
        latest = WorkerHeartbeat.objects.order_by("-last_seen").first()
        if latest:
            heartbeat = latest.last_seen.isoformat()
            heartbeat_age = round((timezone.now() - latest.last_seen).total_seconds())
    broker = _broker_status()
    worker_ok = settings.CELERY_TASK_ALWAYS_EAGER or (
        heartbeat_age is not None and heartbeat_age <= settings.HEARTBEAT_STALE_SECONDS
    )
    healthy = db_ok and broker in ("ok", "eager")
    body = {
        "status": "ok" if healthy and worker_ok else ("degraded" if db_ok else "down"),
        "database": db_status,
        "broker": broker,
        "worker_heartbeat": heartbeat,
        "worker_heartbeat_age_seconds": heartbeat_age,
    }
    return JsonResponse(body, status=200 if db_ok else 503)


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    """The 500 page, rendered without the request's context: the database may be what failed."""
    return HttpResponseServerError(loader.render_to_string("500.html"))
