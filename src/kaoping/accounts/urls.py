from django.urls import path

from . import auth_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/reset-password/", views.user_reset_password, name="user_reset_password"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("users/<int:pk>/grants/new/", views.role_grant, name="role_grant"),
    path("grants/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("security/", views.security_settings, name="security_settings"),
    path("pickers/people/", views.person_picker, name="person_picker"),
    path("pickers/organizations/", views.org_picker, name="org_picker"),
]
