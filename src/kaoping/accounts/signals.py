"""Audit entries for logins, logouts and failed logins (Django's auth signals).

django-axes handles ``user_login_failed`` before us (its app is installed first), so a failure
that hits or finds the lockout is marked ``locked`` in the entry.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from kaoping.audit.actions import Action
from kaoping.audit.context import client_ip
from kaoping.audit.services import log_action

from .models import User


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    log_action(Action.LOGIN, actor=user, obj=user, ip=client_ip(request) if request else None)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        log_action(Action.LOGOUT, actor=user, obj=user, ip=client_ip(request) if request else None)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django masks the password in ``credentials``; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    data = {"locked": True} if getattr(request, "axes_locked_out", False) else {}
    user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    log_action(
        Action.LOGIN_FAILED,
        actor_name=username,
        object_type="accounts.user",
        object_id=user_id or "",
        object_repr=username,
        ip=client_ip(request) if request is not None else None,
        data=data,
    )
