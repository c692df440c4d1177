"""Organization and people pages. Thin: permission via ``kaoping.policy``, objects through its
scoped helpers (404 outside scope), writes through ``services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kaoping import policy
from kaoping.core.web import apply_errors, paginate
from kaoping.policy import Perm

from . import selectors, services
from .forms import DissolveForm, MoveForm, OrganizationForm, PersonForm, PostForm
from .models import BRANCH_TYPES, Organization, OrgStatus, Person, PoliticalStatus, Post


def _require(user: Any, perm: Perm) -> None:
    if not policy.has_perm(user, perm):
        raise PermissionDenied


def _manageable_orgs(user: Any) -> Any:
    return policy.visible_organizations(user, Perm.ORG_MANAGE).filter(status=OrgStatus.ACTIVE)


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ORG_VIEW)
    orgs = policy.visible_organizations(request.user)
    show_dissolved = request.GET.get("dissolved") == "1"
    if not show_dissolved:
        orgs = orgs.filter(status=OrgStatus.ACTIVE)
    q = request.GET.get("q", "").strip()
    matches = None
    if q:
        matches = selectors.search_organizations(orgs, q).order_by("path")[:100]
    context = {
        "rows": selectors.tree_rows(orgs),
        "q": q,
        "matches": matches,
        "show_dissolved": show_dissolved,
        "can_manage": policy.has_perm(request.user, Perm.ORG_MANAGE),
        "can_export": policy.has_perm(request.user, Perm.ORG_EXPORT),
    }
    return render(request, "organizations/tree.html", context)


@login_required
def org_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org, can_write = policy.get_org_for_user(request.user, pk)
    people = policy.visible_people(request.user).filter(organization=org)
    status = request.GET.get("status", "active")
    if status == "active":
        people = people.filter(is_active=True)
    page_obj, query_string = paginate(request, people.order_by("-is_leading_cadre", "staff_no"))
    one = Organization.objects.filter(pk=org.pk)
    counts = selectors.member_counts(one).get(org.pk, {})
    posts = Post.objects.filter(organization=org).select_related("person")
    context = {
        "org": org,
        "can_write": can_write,
        "ancestors": policy.visible_organizations(request.user)
        .filter(pk__in=[int(p) for p in org.path.strip("/").split("/")[:-1]])
        .order_by("depth"),
        "children": policy.visible_organizations(request.user)
        .filter(parent=org)
        .order_by("sort_order", "code"),
        "counts": counts,
        "current_posts": posts.filter(ended_on__isnull=True).order_by(
            selectors.post_rank(), "started_on"
        ),
        "past_posts": posts.filter(ended_on__isnull=False).order_by("-ended_on"),
        "warnings": selectors.organization_warnings(one),
        "page_obj": page_obj,
        "query_string": query_string,
        "status": status,
        "is_branch": org.org_type in BRANCH_TYPES,
    }
    return render(request, "organizations/detail.html", context)


@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ORG_MANAGE)
    parents = _manageable_orgs(request.user)
    initial = {}
    if request.GET.get("parent"):
        parent = parents.filter(pk=request.GET["parent"]).first()
        if parent is not None:
            initial["parent"] = parent
    form = OrganizationForm(request.POST or None, parents=parents, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["parent"] is None:
            # The top-level 机关党委 is set up once at installation (`kaoping org init`).
            form.add_error("parent", "请选择上级组织")
        else:
            try:
                org = services.create_organization(actor=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"已新建“{org.name}”。")
                return redirect("organizations:detail", org.pk)
    return render(request, "organizations/org_form.html", {"form": form, "title": "新建党组织"})


def _get_writable_org(request: HttpRequest, pk: int) -> Organization:
    org, can_write = policy.get_org_for_user(request.user, pk)
    if not can_write:
        raise PermissionDenied
    return org


@login_required
def org_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_writable_org(request, pk)
    if org.status != OrgStatus.ACTIVE:
        messages.error(request, "已撤销的组织不能修改。")
        return redirect("organizations:detail", org.pk)
    fields = ["code", "name", "org_type", "business_department", "founded_on", "sort_order", "note"]
    form = OrganizationForm(
        request.POST or None,
        with_parent=False,
        initial={f: getattr(org, f) for f in fields},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organization(actor=request.user, org=org, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("organizations:detail", org.pk)
    return render(
        request,
        "organizations/org_form.html",
        {"form": form, "title": f"修改：{org.name}", "org": org},
    )


@login_required
def org_move(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_writable_org(request, pk)
    parents = _manageable_orgs(request.user).exclude(path__startswith=org.path)
    form = MoveForm(request.POST or None, parents=parents, initial={"new_parent": org.parent})
    if request.method == "POST" and form.is_valid():
        try:
            services.move_organization(
                actor=request.user, org=org, new_parent=form.cleaned_data["new_parent"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "已调整上级组织。")
            return redirect("organizations:detail", org.pk)
    return render(
        request,
        "organizations/simple_form.html",
        {"form": form, "title": f"调整上级组织：{org.name}", "org": org, "submit": "确认调整"},
    )


@login_required
def org_dissolve(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_writable_org(request, pk)
    form = DissolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dissolve_organization(
                actor=request.user,
                org=org,
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"“{org.name}”已撤销，历史记录保留。")
            return redirect("organizations:detail", org.pk)
    return render(
        request,
        "organizations/simple_form.html",
        {
            "form": form,
            "title": f"撤销组织：{org.name}",
            "org": org,
            "submit": "确认撤销",
            "danger": True,
            "hint": "撤销后组织及其历史记录仍保留，但不能再转入人员或任职。须先转出全部在册人员、撤销或移走下级组织。",
        },
    )


@login_required
def post_create(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_writable_org(request, pk)
    people = (
        policy.visible_people(request.user)
        .filter(is_active=True)
        .exclude(political_status=PoliticalStatus.MASSES)
        .filter(Q(organization=org) | Q(organization__parent=org))
        .order_by("staff_no")
    )
    form = PostForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        try:
            services.appoint(actor=request.user, organization=org, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "已任职。")
            return redirect("organizations:detail", org.pk)
    return render(
        request,
        "organizations/simple_form.html",
        {
            "form": form,
            "title": f"任职：{org.name}",
            "org": org,
            "submit": "保存",
            "hint": "任命新书记时，原书记自动离任。",
        },
    )


@login_required
@require_POST
def post_end(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        post = Post.objects.select_related("organization").get(
            pk=pk, organization__in=policy.visible_organizations(request.user)
        )
    except Post.DoesNotExist as exc:
        from django.http import Http404

        raise Http404 from exc
    if not policy.can_manage_org(request.user, post.organization):
        raise PermissionDenied
    services.end_post(actor=request.user, post=post)
    messages.success(request, "已离任。")
    return redirect("organizations:detail", post.organization_id)


@login_required
def people(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ORG_VIEW)
    qs = policy.visible_people(request.user).select_related("organization")
    q = request.GET.get("q", "").strip()
    qs = selectors.search_people(qs, q)
    status = request.GET.get("political_status", "")
    if status in PoliticalStatus.values:
        qs = qs.filter(political_status=status)
    if request.GET.get("cadre") == "1":
        qs = qs.filter(is_leading_cadre=True)
    if request.GET.get("inactive") != "1":
        qs = qs.filter(is_active=True)
    page_obj, query_string = paginate(request, qs.order_by("staff_no"))
    context = {
        "page_obj": page_obj,
        "query_string": query_string,
        "q": q,
        "statuses": PoliticalStatus.choices,
        "status": status,
        "can_manage": policy.has_perm(request.user, Perm.ORG_MANAGE),
    }
    template = "organizations/_people_table.html" if request.htmx else "organizations/people.html"
    return render(request, template, context)


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person, can_write = policy.get_person_for_user(request.user, pk)
    posts = (
        Post.objects.filter(person=person).select_related("organization").order_by("-started_on")
    )
    return render(
        request,
        "organizations/person_detail.html",
        {"person": person, "can_write": can_write, "posts": posts},
    )


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ORG_MANAGE)
    orgs = _manageable_orgs(request.user)
    initial = {"is_active": True}
    if request.GET.get("organization"):
        org = orgs.filter(pk=request.GET["organization"]).first()
        if org is not None:
            initial["organization"] = org
            initial["business_department"] = org.business_department
    form = PersonForm(request.POST or None, organizations=orgs, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["organization"] is None:
            form.add_error("organization", "请选择所在党组织")
        else:
            try:
                person = services.create_person(actor=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"已新增“{person.name}”。")
                return redirect("organizations:person_detail", person.pk)
    return render(request, "organizations/person_form.html", {"form": form, "title": "新增人员"})


@login_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person, can_write = policy.get_person_for_user(request.user, pk)
    if not can_write:
        raise PermissionDenied
    orgs = _manageable_orgs(request.user)
    form = PersonForm(
        request.POST or None,
        organizations=orgs,
        instance=Person.objects.get(pk=person.pk),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["organization"] is None:
            form.add_error("organization", "请选择所在党组织")
        else:
            try:
                services.update_person(actor=request.user, person=person, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "已保存。")
                return redirect("organizations:person_detail", person.pk)
    return render(
        request,
        "organizations/person_form.html",
        {"form": form, "title": f"修改：{person.name}", "person": person},
    )


def person_url(person: Any) -> str:
    return reverse("organizations:person_detail", args=[person.pk])
