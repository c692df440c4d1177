from __future__ import annotations

from typing import Any

from kaoping import policy
from kaoping.policy import Perm


def navigation(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items: list[tuple[str, str, str]] = [("core:home", "工作台", "house")]
    if policy.has_perm(user, Perm.ORG_VIEW):
        items.append(("organizations:tree", "党组织", "diagram-3"))
        items.append(("organizations:people", "人员", "people"))
    if policy.has_perm(user, Perm.SCHEME_VIEW):
        items.append(("indicators:schemes", "指标体系", "list-check"))
    if policy.has_perm(user, Perm.CAMPAIGN_VIEW):
        items.append(("campaigns:list", "考核活动", "clipboard-check"))
    if policy.has_perm(user, Perm.SELF_ASSESS):
        items.append(("collection:self_list", "自评", "pencil-square"))
    if policy.has_perm(user, Perm.CAMPAIGN_MANAGE) or policy.has_perm(user, Perm.SELF_ASSESS):
        items.append(("collection:daily_list", "平时考核纪实", "journal-check"))
    if getattr(user, "person_id", None):
        items.append(("ballots:my_appraisals", "我的测评", "check2-square"))
    if getattr(user, "person_id", None) or policy.has_perm(user, Perm.SELF_ASSESS):
        items.append(("rectification:mine", "整改", "tools"))
        items.append(("results:mine", "我的考核结果", "award"))
        items.append(("results:my_appeals", "我的申诉", "chat-left-text"))
    if policy.has_perm(user, Perm.USER_MANAGE) or policy.has_perm(user, Perm.ROLE_GRANT):
        items.append(("accounts:users", "账号与角色", "person-gear"))
    if policy.has_perm(user, Perm.AUDIT_VIEW):
        items.append(("audit:log", "审计日志", "journal-text"))
    unread = None
    if policy.has_perm(user, Perm.CAMPAIGN_VIEW):
        from kaoping.campaigns.models import Notification

        unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {
        "nav": items,
        "user_roles": sorted(r.label for r in policy.roles(user)),
        "unread_notifications": unread,
    }
