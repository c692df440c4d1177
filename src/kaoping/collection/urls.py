from django.urls import path

from . import daily_views, quant_views, review_views, self_views

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
    # Quantitative data (quant_views.py)
    path("quant/<int:campaign_pk>/", quant_views.quant_home, name="quant_home"),
    path("quant/<int:campaign_pk>/template/", quant_views.quant_template, name="quant_template"),
    path("quant/<int:campaign_pk>/import/", quant_views.quant_import, name="quant_import"),
    path("quant/<int:campaign_pk>/manual/", quant_views.quant_manual, name="quant_manual"),
    path("quant/batches/<int:batch_pk>/undo/", quant_views.quant_undo, name="quant_undo"),
    # Self-assessment and evidence (self_views.py)
    path("self/", self_views.self_list, name="self_list"),
    path("self/<int:campaign_id>/", self_views.self_overview, name="self_overview"),
    path("self/target/<int:target_id>/", self_views.self_for_target, name="self_assessment"),
    path("self/<int:campaign_id>/<int:target_id>/", self_views.self_form, name="self_form"),
    path(
        "self/<int:campaign_id>/<int:target_id>/item/<int:indicator_id>/",
        self_views.save_row,
        name="self_save_row",
    ),
    path(
        "self/<int:campaign_id>/<int:target_id>/item/<int:indicator_id>/upload/",
        self_views.upload,
        name="self_upload",
    ),
    path(
        "self/<int:campaign_id>/<int:target_id>/item/<int:indicator_id>/library/",
        self_views.library,
        name="self_library",
    ),
    path(
        "self/<int:campaign_id>/<int:target_id>/item/<int:indicator_id>/attach/",
        self_views.attach,
        name="self_attach",
    ),
    path(
        "self/<int:campaign_id>/<int:target_id>/item/<int:indicator_id>/detach/<int:evidence_id>/",
        self_views.detach,
        name="self_detach",
    ),
    path("self/<int:campaign_id>/<int:target_id>/submit/", self_views.submit, name="self_submit"),
    path(
        "self/<int:campaign_id>/<int:target_id>/return/",
        self_views.return_assessment,
        name="self_return",
    ),
    path("self/<int:campaign_id>/<int:target_id>/accept/", self_views.accept, name="self_accept"),
    path("evidence/<int:evidence_id>/", self_views.evidence_preview, name="evidence_preview"),
    # Daily records (daily_views.py)
    path("daily/", daily_views.daily_list, name="daily_list"),
    path("daily/new/", daily_views.daily_create, name="daily_create"),
    path("daily/<int:record_id>/delete/", daily_views.daily_delete, name="daily_delete"),
]
