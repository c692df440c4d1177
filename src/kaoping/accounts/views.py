"""Account and role pages (账号与角色).

系统管理员 (``Perm.USER_MANAGE``) creates, edits, disables accounts and resets passwords;
安全管理员 (``Perm.ROLE_GRANT``) grants and revokes roles, unlocks locked accounts and reads the
security settings in force. Both see the account list. Anyone else gets 403 (audited by the
core 403 handler). Thin: rules live in ``services``, reads in ``selectors``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kaoping import policy
from kaoping.core.web import apply_errors, paginate
from kaoping.policy import Perm

from . import selectors, services
from .forms import GrantForm, UserCreateForm, UserEditForm
from .models import User

PAGE_SIZE = 30


def _require(user: Any, *perms: Perm) -> None:
    """The user holds at least one of ``perms``."""
    if not any(policy.has_perm(user, p) for p in perms):
        raise PermissionDenied


def _perms(user: Any) -> dict[str, bool]:
    return {
        "can_manage_users": policy.has_perm(user, Perm.USER_MANAGE),
        "can_grant": policy.has_perm(user, Perm.ROLE_GRANT),
    }


def _password_page(request: HttpRequest, account: User, password: str, title: str) -> HttpResponse:
    """Show a generated password once. Rendered, never redirected, so it is stored nowhere."""
    response = render(
        request,
        "accounts/user_password.html",
        {"account": account, "password": password, "title": title},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.USER_MANAGE, Perm.ROLE_GRANT)
    q = request.GET.get("q", "").strip()
    page_obj, query_string = paginate(request, selectors.user_list(query=q), PAGE_SIZE)
    locked = selectors.locked_usernames(u.username for u in page_obj.object_list)
    context = {
        "page_obj": page_obj,
        "query_string": query_string,
        "q": q,
        "locked": locked,
        **_perms(request.user),
    }
    template = "accounts/_user_table.html" if request.htmx else "accounts/user_list.html"
    return render(request, template, context)


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.USER_MANAGE)
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account, password = services.create_user(
                actor=request.user,
                username=form.cleaned_data["username"],
                full_name=form.cleaned_data["full_name"],
                person=form.cleaned_data["person"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _password_page(request, account, password, "账号已创建")
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "title": "新建账号", "person": _chosen(form, "person")},
    )


def _chosen(form: Any, name: str) -> Any:
    """The object currently chosen in a picker field (for re-displaying the form)."""
    if form.is_bound:
        return form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
    return form.initial.get(name)


@login_required
@require_GET
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.USER_MANAGE, Perm.ROLE_GRANT)
    account = selectors.get_user(pk)
    perms = _perms(request.user)
    context = {
        "account": account,
        "grants": selectors.user_grants(account),
        "is_locked": bool(selectors.locked_usernames([account.username])),
        "grant_form": GrantForm(actor=request.user) if perms["can_grant"] else None,
        "is_self": account.pk == request.user.pk,
        **perms,
    }
    return render(request, "accounts/user_detail.html", context)


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.USER_MANAGE)
    account = selectors.get_user(pk)
    initial = {"full_name": account.full_name, "person": account.person}
    form = UserEditForm(request.POST or None, initial=initial, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(
                actor=request.user,
                user=account,
                full_name=form.cleaned_data["full_name"],
                person=form.cleaned_data["person"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "账号信息已保存。")
            return redirect("accounts:user_detail", pk=account.pk)
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "title": f"修改账号：{account.username}",
            "account": account,
            "person": _chosen(form, "person"),
        },
    )


@login_required
@require_POST
@never_cache
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.USER_MANAGE)
    account = selectors.get_user(pk)
    try:
        password = services.reset_password(actor=request.user, user=account)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("accounts:user_detail", pk=account.pk)
    return _password_page(request, account, password, "密码已重置")


@login_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.USER_MANAGE)
    account = selectors.get_user(pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_active(actor=request.user, user=account, active=active)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "账号已启用。" if active else "账号已停用，不能再登录。")
    return redirect("accounts:user_detail", pk=account.pk)


@login_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.ROLE_GRANT)
    account = selectors.get_user(pk)
    services.unlock(actor=request.user, username=account.username)
    messages.success(request, f"已解除账号“{account.username}”的登录锁定。")
    return redirect("accounts:user_detail", pk=account.pk)


@login_required
@require_POST
def role_grant(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.ROLE_GRANT)
    account = selectors.get_user(pk)
    form = GrantForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            grant = services.grant_role(
                actor=request.user,
                user=account,
                role=form.cleaned_data["role"],
                organization=form.cleaned_data["organization"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已授予：{grant}")
            return redirect("accounts:user_detail", pk=account.pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("accounts:user_detail", pk=account.pk)


@login_required
@require_POST
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.ROLE_GRANT)
    grant = selectors.get_grant(pk)
    label = str(grant)
    try:
        services.revoke_role(actor=request.user, grant=grant)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已收回：{label}")
    return redirect("accounts:user_detail", pk=grant.user_id)


@login_required
@require_GET
def security_settings(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ROLE_GRANT)
    return render(
        request,
        "accounts/security_settings.html",
        {
            "settings_rows": selectors.security_settings(),
            "locked": sorted(selectors.locked_usernames()),
        },
    )


@login_required
@require_GET
def person_picker(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.USER_MANAGE)
    q = request.GET.get("q", "")
    return render(
        request,
        "accounts/_person_choices.html",
        {"choices": selectors.person_choices(request.user, q), "q": q.strip()},
    )


@login_required
@require_GET
def org_picker(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ROLE_GRANT)
    q = request.GET.get("q", "")
    return render(
        request,
        "accounts/_org_choices.html",
        {"choices": selectors.organization_choices(request.user, q), "q": q.strip()},
    )
