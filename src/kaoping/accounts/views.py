from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from kaoping import policy
from kaoping.policy import Perm


@login_required
def user_list(request):
    if not (policy.has_perm(request.user, Perm.USER_MANAGE) or policy.has_perm(request.user, Perm.ROLE_GRANT)):
        raise PermissionDenied
    return render(request, "accounts/user_list.html", {})
