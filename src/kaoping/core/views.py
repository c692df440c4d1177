from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kaoping import __version__, policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.organizations.selectors import organization_warnings
from kaoping.policy import Perm


@require_GET
@never_cache
def healthz(request):
    """Liveness and readiness: the database answers and every migration is applied."""
    body: dict[str, object] = {"version": __version__}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["database"] = "ok"
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        body["migrations"] = "ok" if not pending else f"{len(pending)} pending"
    except Exception as exc:  # report, never raise: this is what monitoring reads
        body.setdefault("database", f"error: {exc.__class__.__name__}")
        body.setdefault("migrations", "unknown")
    ok = body["database"] == "ok" and body["migrations"] == "ok"
    body["status"] = "ok" if ok else "error"
    return JsonResponse(body, status=200 if ok else 503)


@login_required
def home(request):
    user = request.user
    context: dict[str, object] = {"roles": sorted(r.label for r in policy.roles(user))}
    if policy.has_perm(user, Perm.CAMPAIGN_VIEW):
        from kaoping.campaigns.selectors import todo_for

        context["todo"] = todo_for(user)
    if policy.has_perm(user, Perm.ORG_MANAGE) or policy.has_perm(user, Perm.ORG_EXPORT):
        orgs = policy.visible_organizations(user)
        context["warnings"] = organization_warnings(orgs)[:50]
        context["org_count"] = orgs.filter(status="active").count()
        context["people_count"] = policy.visible_people(user).filter(is_active=True).count()
    return render(request, "core/home.html", context)


def permission_denied(request, exception=None):
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        log_action(
            Action.PERMISSION_DENIED,
            actor=request.user,
            object_type="url",
            object_repr=request.path[:200],
        )
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
