"""Indicator-system pages: the list of schemes and the tree editor (HTMX). Thin: permission via
``kaoping.policy``, objects through its scoped helpers (404 outside scope), writes through
``services``. Every edit of the tree answers with the re-rendered tree, so the totals stay live."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kaoping import policy
from kaoping.core.web import apply_errors
from kaoping.policy import Perm

from . import selectors, services
from .forms import IndicatorForm, MoveForm, SchemeForm, VersionSettingsForm
from .models import Indicator, PublishedVersionError, SchemeVersion


def _require(user: Any, perm: Perm) -> None:
    if not policy.has_perm(user, perm):
        raise PermissionDenied


def _get_version(request: HttpRequest, pk: int) -> tuple[SchemeVersion, bool]:
    """The version (403 without the permission, 404 outside scope) and whether the user may
    edit it (manages the scheme; a published version stays read-only)."""
    _require(request.user, Perm.SCHEME_VIEW)
    version, can_manage = policy.get_version_for_user(request.user, pk)
    return version, can_manage


def _writable_version(request: HttpRequest, pk: int) -> SchemeVersion:
    version, can_manage = _get_version(request, pk)
    if not can_manage:
        raise PermissionDenied
    if version.is_published:
        raise PublishedVersionError(services.PUBLISHED_MESSAGE)
    return version


def _writable_indicator(request: HttpRequest, pk: int) -> Indicator:
    _require(request.user, Perm.SCHEME_VIEW)
    ind, _can_write = selectors.get_indicator_for_user(request.user, pk)
    if not policy.can_manage_scheme(request.user, ind.version.scheme):
        raise PermissionDenied
    if ind.version.is_published:
        raise PublishedVersionError(services.PUBLISHED_MESSAGE)
    return ind


# Service fields shown under another form field.
FORM_FIELD = {"rule_params": "rule_params_json", "weight": "weight_percent", "veto": "veto_effect"}


def _refused(request: HttpRequest, version_pk: int, message: str) -> HttpResponse:
    messages.error(request, message)
    url = reverse("indicators:version", args=[version_pk])
    if request.htmx:
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


def _tree_response(request: HttpRequest, version: SchemeVersion) -> HttpResponse:
    """The tree partial for HTMX, the version page otherwise."""
    if not request.htmx:
        return redirect("indicators:version", version.pk)
    return render(request, "indicators/_tree.html", _tree_context(request, version, True))


def _tree_context(request: HttpRequest, version: SchemeVersion, can_edit: bool) -> dict[str, Any]:
    return {"version": version, "tree": selectors.tree(version), "can_edit": can_edit}


# ---- schemes -------------------------------------------------------------------------------


@login_required
def schemes(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.SCHEME_VIEW)
    rows = []
    for scheme in policy.visible_schemes(request.user).select_related("owner"):
        rows.append(
            {
                "scheme": scheme,
                "versions": scheme.versions.order_by("-number"),
                "can_manage": policy.can_manage_scheme(request.user, scheme),
            }
        )
    return render(
        request,
        "indicators/schemes.html",
        {"rows": rows, "can_create": policy.has_perm(request.user, Perm.SCHEME_MANAGE)},
    )


@login_required
def scheme_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.SCHEME_MANAGE)
    owners = policy.visible_organizations(request.user, Perm.SCHEME_MANAGE).order_by("path")
    form = SchemeForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.create_scheme(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc, FORM_FIELD)
        else:
            messages.success(request, f"已新建指标体系“{version.scheme.name}”，当前为第 1 版草稿。")
            return redirect("indicators:version", version.pk)
    return render(request, "indicators/scheme_form.html", {"form": form})


@login_required
@require_POST
def new_draft(request: HttpRequest, pk: int) -> HttpResponse:
    version, can_manage = _get_version(request, pk)
    if not can_manage:
        raise PermissionDenied
    draft = services.new_draft(
        actor=request.user, from_version=version, label=request.POST.get("label", "")
    )
    messages.success(request, f"已基于第 {version.number} 版新建第 {draft.number} 版草稿。")
    return redirect("indicators:version", draft.pk)


# ---- the version page (tree editor) --------------------------------------------------------


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version, can_manage = _get_version(request, pk)
    can_edit = can_manage and not version.is_published
    context = _tree_context(request, version, can_edit)
    context |= {
        "can_manage": can_manage,
        "versions": version.scheme.versions.order_by("-number"),
        "publish_errors": request.session.pop(f"publish_errors_{version.pk}", None),
        "settings": selectors.version_settings(version),
    }
    if request.htmx and request.GET.get("partial") == "tree":
        return render(request, "indicators/_tree.html", context)
    return render(request, "indicators/version.html", context)


@login_required
def version_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Label, total, grades with thresholds, default rater-group weights and the 民主测评 scale
    of a draft (managers only)."""
    try:
        version = _writable_version(request, pk)
    except PublishedVersionError as exc:
        return _refused(request, pk, str(exc))
    form = VersionSettingsForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_version_settings(
                actor=request.user, version=version, **form.to_fields()
            )
        except PublishedVersionError as exc:
            return _refused(request, pk, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "已保存版本设置。")
            return redirect("indicators:version", version.pk)
    return render(request, "indicators/settings.html", {"form": form, "version": version})


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        version = _writable_version(request, pk)
        services.publish(actor=request.user, version=version)
    except PublishedVersionError as exc:
        return _refused(request, pk, str(exc))
    except ValidationError as exc:
        request.session[f"publish_errors_{pk}"] = exc.messages
        messages.error(request, f"校验发现 {len(exc.messages)} 个阻断性问题，暂不能发布。")
        return redirect("indicators:version", pk)
    messages.success(request, "已发布。已发布的版本不能再修改，如需调整请基于它新建草稿。")
    return redirect("indicators:version", pk)


@login_required
def indicator_add(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        version = _writable_version(request, pk)
    except PublishedVersionError as exc:
        return _refused(request, pk, str(exc))
    parent = None
    if request.GET.get("parent"):
        parent = version.indicators.filter(pk=request.GET["parent"]).first()
    position = request.GET.get("position")
    initial = {"data_source": "reviewer", "rule_kind": "" if parent is None else "rating"}
    form = IndicatorForm(request.POST or None, version=version, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_indicator(
                actor=request.user,
                version=version,
                parent=parent,
                position=int(position) if position and position.isdigit() else None,
                **form.to_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc, FORM_FIELD)
        else:
            return _tree_response(request, version)
    query = request.GET.urlencode()
    context = {
        "form": form,
        "version": version,
        "parent": parent,
        "action": reverse("indicators:indicator_add", args=[version.pk]) + f"?{query}",
        "row_id": "new-row",
        "evidence_rows": _evidence_rows(form.evidence() if form.is_bound else []),
    }
    return _form_response(request, context)


@login_required
def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ind = _writable_indicator(request, pk)
    except PublishedVersionError as exc:
        return _refused(request, _version_pk(pk), str(exc))
    version = ind.version
    form = IndicatorForm(
        request.POST or None, version=version, initial=IndicatorForm.initial_for(ind)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_indicator(actor=request.user, indicator=ind, **form.to_fields())
        except ValidationError as exc:
            apply_errors(form, exc, FORM_FIELD)
        else:
            return _tree_response(request, version)
    context = {
        "form": form,
        "version": version,
        "indicator": ind,
        "action": reverse("indicators:indicator_edit", args=[ind.pk]),
        "row_id": f"ind-{ind.pk}",
        "evidence_rows": _evidence_rows(form.evidence() if form.is_bound else ind.evidence),
    }
    return _form_response(request, context)


def _version_pk(indicator_pk: int) -> int:
    return Indicator.objects.values_list("version_id", flat=True).get(pk=indicator_pk)


def _evidence_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Posted or stored evidence; one empty row when there is none (more rows are added in the
    page with “添加一行”)."""
    return [dict(r) for r in rows] or [{"what": "", "count": 1, "optional": False}]


def _form_response(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    form = context["form"]
    if request.htmx:
        response = render(request, "indicators/_indicator_form_row.html", context)
        if form.is_bound:  # errors: put the form back where it was
            response["HX-Retarget"] = f"#{context['row_id']}"
            response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "indicators/indicator_page.html", context)


@login_required
def indicator_move(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ind = _writable_indicator(request, pk)
    except PublishedVersionError as exc:
        return _refused(request, _version_pk(pk), str(exc))
    version = ind.version
    inside = {i.pk for i in selectors.subtree(ind)}
    parents = [r.indicator for r in selectors.tree(version).rows if r.indicator.pk not in inside]
    parents = [p for p in parents if p.level < 4]
    form = MoveForm(
        request.POST or None, parents=parents, initial={"new_parent": ind.parent_id or 0}
    )
    if request.method == "POST":
        direction = request.POST.get("direction")
        if direction in ("up", "down"):
            services.reorder(actor=request.user, indicator=ind, direction=direction)
            return _tree_response(request, version)
        if form.is_valid():
            target = version.indicators.filter(pk=form.cleaned_data["new_parent"]).first()
            position = form.cleaned_data["position"]
            try:
                services.move_indicator(
                    actor=request.user,
                    indicator=ind,
                    new_parent=target,
                    position=None if position < 0 else position,
                )
            except ValidationError as exc:
                apply_errors(form, exc, FORM_FIELD)
            else:
                return _tree_response(request, version)
    context = {"form": form, "indicator": ind, "version": version}
    response = render(request, "indicators/_move_row.html", context)
    if form.is_bound:
        response["HX-Retarget"] = f"#ind-{ind.pk}"
        response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
def indicator_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ind = _writable_indicator(request, pk)
    except PublishedVersionError as exc:
        return _refused(request, _version_pk(pk), str(exc))
    count = services.delete_indicator(actor=request.user, indicator=ind)
    if not request.htmx:
        messages.success(request, f"已删除“{ind.name}”（共 {count} 个指标）。")
    return _tree_response(request, ind.version)


@login_required
@require_POST
def confirm_rule(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ind = _writable_indicator(request, pk)
        services.confirm_proposed_rule(actor=request.user, indicator=ind)
    except PublishedVersionError as exc:
        return _refused(request, _version_pk(pk), str(exc))
    except ValidationError as exc:
        return _refused(request, ind.version_id, "；".join(exc.messages))
    return _tree_response(request, ind.version)
