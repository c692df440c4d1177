from django.urls import path

from . import views

app_name = "rectification"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("campaign/<int:pk>/", views.campaign_tasks, name="campaign"),
    path("campaign/<int:pk>/propose/", views.propose, name="propose"),
    path("campaign/<int:pk>/bulk/", views.bulk, name="bulk"),
    path("campaign/<int:pk>/new/", views.create, name="create"),
    path("campaign/<int:pk>/export/", views.export, name="export"),
    path("campaign/<int:pk>/previous/", views.previous, name="previous"),
    path("task/<int:pk>/", views.detail, name="detail"),
    path("task/<int:pk>/edit/", views.edit, name="edit"),
    path("task/<int:pk>/plan/", views.plan, name="plan"),
    path("task/<int:pk>/progress/", views.progress, name="progress"),
    path("task/<int:pk>/submit/", views.submit, name="submit"),
    path("task/<int:pk>/verify/", views.verify, name="verify"),
    path("task/<int:pk>/return/", views.return_task, name="return"),
    path("task/<int:pk>/evidence/<int:evidence_id>/", views.evidence, name="evidence"),
]
