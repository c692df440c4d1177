from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from kaoping import policy
from kaoping.organizations.models import OrgStatus
from kaoping.policy import Perm

from .models import Role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。连续多次失败后账号将被暂时锁定。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        for f in self.fields.values():
            f.widget.attrs["class"] = "form-control"


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {
            "old_password": "原密码",
            "new_password1": "新密码",
            "new_password2": "确认新密码",
        }
        for name, f in self.fields.items():
            f.label = labels.get(name, f.label)
            f.widget.attrs["class"] = "form-control"


class _PersonPickerMixin:
    """``person`` is chosen with the HTMX person picker (radio buttons named ``person``); the
    field validates the choice against the people the actor may see."""

    def _setup_person(self, actor) -> None:  # type: ignore[no-untyped-def]
        self.fields["person"] = forms.ModelChoiceField(
            label="对应人员",
            queryset=policy.visible_people(actor, Perm.DIRECTORY_LOOKUP).select_related(
                "organization"
            ),
            required=False,
            widget=forms.HiddenInput,
            help_text="可选。关联后，该账号按人员所在党组织参与考评。",
        )


class UserCreateForm(_PersonPickerMixin, forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150, help_text="登录用，创建后不能修改；字母、数字和 @.+-_"
    )
    full_name = forms.CharField(label="姓名", max_length=50)

    def __init__(self, *args, actor, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._setup_person(actor)
        for name in ("username", "full_name"):
            self.fields[name].widget.attrs["class"] = "form-control"


class UserEditForm(_PersonPickerMixin, forms.Form):
    full_name = forms.CharField(label="姓名", max_length=50)

    def __init__(self, *args, actor, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._setup_person(actor)
        self.fields["full_name"].widget.attrs["class"] = "form-control"


class GrantForm(forms.Form):
    role = forms.ChoiceField(label="角色")
    organization = forms.ModelChoiceField(
        label="适用党组织",
        queryset=None,
        required=False,
        widget=forms.HiddenInput,
        help_text="考核管理员、领导管辖所选党组织及其下级；评审员、单位填报员仅限所选党组织。",
    )

    def __init__(self, *args, actor, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "请选择角色"), *Role.choices]
        self.fields["role"].widget.attrs["class"] = "form-select"
        self.fields["organization"].queryset = policy.visible_organizations(
            actor, Perm.DIRECTORY_LOOKUP
        ).filter(status=OrgStatus.ACTIVE)
