"""Typed audit actions: every entry's ``action`` is one of these, with its Chinese label."""

from django.db import models


class Action(models.TextChoices):
    LOGIN = "auth.login", "登录"
    LOGOUT = "auth.logout", "退出"
    LOGIN_FAILED = "auth.login_failed", "登录失败"
    PASSWORD_CHANGE = "auth.password_change", "修改密码"
    PERMISSION_DENIED = "auth.denied", "越权访问被拒绝"
    USER_CREATE = "user.create", "创建账号"
    USER_UPDATE = "user.update", "修改账号"
    USER_RESET_PASSWORD = "user.reset_password", "重置密码"
    USER_UNLOCK = "user.unlock", "解除锁定"
    ROLE_GRANT = "role.grant", "授予角色"
    ROLE_REVOKE = "role.revoke", "收回角色"
    ORG_CREATE = "org.create", "新建党组织"
    ORG_UPDATE = "org.update", "修改党组织"
    ORG_MOVE = "org.move", "调整上级组织"
    ORG_DISSOLVE = "org.dissolve", "撤销党组织"
    PERSON_CREATE = "person.create", "新增人员"
    PERSON_UPDATE = "person.update", "修改人员"
    POST_CREATE = "post.create", "任职"
    POST_END = "post.end", "离任"
    IMPORT = "data.import", "导入"
    EXPORT = "data.export", "导出"
    USER_DISABLE = "user.disable", "停用账号"
    USER_ENABLE = "user.enable", "启用账号"
