from django.urls import path

from . import review_views

app_name = "collection"
urlpatterns: list = [
    # Reviewer scoring (review_views.py)
    path("review/<int:campaign_pk>/", review_views.review_grid, name="review_grid"),
    path(
        "review/<int:campaign_pk>/cell/<int:target_pk>/<int:indicator_pk>/",
        review_views.review_cell,
        name="review_cell",
    ),
    path("review/<int:campaign_pk>/submit/", review_views.review_submit, name="review_submit"),
    path("review/<int:campaign_pk>/sheets/", review_views.review_sheets, name="review_sheets"),
    path("review/sheets/<int:sheet_pk>/reopen/", review_views.review_reopen, name="review_reopen"),
]
