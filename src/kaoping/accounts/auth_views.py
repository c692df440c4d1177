from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action

from .forms import ChangePasswordForm, LoginForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = ChangePasswordForm
    success_url = reverse_lazy("core:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        log_action(Action.PASSWORD_CHANGE, actor=user, obj=user)
        messages.success(self.request, "密码已修改。")
        return response
