"""URLs of the results app (appeal part); merged into ``results.urls``."""

from django.urls import URLPattern, path

from . import appeal_views as views

urlpatterns: list[URLPattern] = [
    path("appeals/mine/", views.my_appeals, name="my_appeals"),
    path("campaigns/<int:campaign_id>/appeals/", views.appeal_list, name="appeal_list"),
    path("campaigns/<int:campaign_id>/corrections/", views.corrections, name="corrections"),
    path("targets/<int:target_id>/appeal/", views.appeal_file, name="appeal_file"),
    path("appeals/<int:appeal_id>/", views.appeal_detail, name="appeal_detail"),
    path("appeals/<int:appeal_id>/reject/", views.appeal_reject, name="appeal_reject"),
    path("appeals/<int:appeal_id>/uphold/", views.appeal_uphold, name="appeal_uphold"),
    path(
        "appeals/<int:appeal_id>/evidence/<int:evidence_id>/",
        views.appeal_evidence,
        name="appeal_evidence",
    ),
]
