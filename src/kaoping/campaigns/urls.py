from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/stages/", views.stage_plan, name="stage_plan"),
    path("<int:pk>/targets/", views.targets, name="targets"),
    path("<int:pk>/targets/add/", views.targets_add, name="targets_add"),
    path("<int:pk>/targets/<int:target_pk>/remove/", views.target_remove, name="target_remove"),
    path("<int:pk>/weights/", views.weights, name="weights"),
    path("<int:pk>/reviewers/", views.reviewers, name="reviewers"),
    path("<int:pk>/reviewers/<int:assignment_pk>/remove/", views.unassign, name="unassign"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/menu/", views.notifications_menu, name="notifications_menu"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
]
