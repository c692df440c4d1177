"""URLs of the results app (page part); merged into ``results.urls``."""

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("mine/", views.mine, name="mine"),
    path("campaign/<int:campaign_pk>/", views.ranking, name="ranking"),
    path("campaign/<int:campaign_pk>/export/", views.export, name="export"),
    path("campaign/<int:campaign_pk>/compute/", views.compute, name="compute"),
    path(
        "campaign/<int:campaign_pk>/compute/<int:job_pk>/",
        views.compute_status,
        name="compute_status",
    ),
    path("campaign/<int:campaign_pk>/submit/", views.submit, name="submit"),
    path("campaign/<int:campaign_pk>/approve/", views.approve, name="approve"),
    path("campaign/<int:campaign_pk>/return/", views.return_results, name="return"),
    path("campaign/<int:campaign_pk>/sets/<int:number>/changes/", views.changes, name="changes"),
    path("campaign/<int:campaign_pk>/target/<int:target_pk>/", views.target, name="target"),
]
