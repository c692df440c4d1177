from django.urls import path

from . import views, views_ahp, views_io, views_report

app_name = "indicators"
urlpatterns = [
    path("", views.schemes, name="schemes"),
    path("new/", views.scheme_create, name="scheme_create"),
    path("import/", views_io.import_upload, name="import_new"),
    path("library/", views_io.library, name="library"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/new-draft/", views.new_draft, name="new_draft"),
    path("versions/<int:pk>/publish/", views.publish, name="publish"),
    path("versions/<int:pk>/indicators/new/", views.indicator_add, name="indicator_add"),
    path("versions/<int:pk>/ahp/", views_ahp.ahp_page, name="ahp"),
    path("versions/<int:pk>/ahp/compute/", views_ahp.ahp_compute, name="ahp_compute"),
    path("versions/<int:pk>/weights/", views_ahp.weights_page, name="weights"),
    path("versions/<int:pk>/entropy/", views_ahp.entropy_page, name="entropy"),
    path("versions/<int:pk>/settings/", views.version_settings, name="settings"),
    path("indicators/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("indicators/<int:pk>/move/", views.indicator_move, name="indicator_move"),
    path("indicators/<int:pk>/delete/", views.indicator_delete, name="indicator_delete"),
    path("indicators/<int:pk>/confirm-rule/", views.confirm_rule, name="confirm_rule"),
    # Validation report and version comparison (views_report.py)
    path("versions/<int:pk>/validation/", views_report.validation, name="validation"),
    path("versions/<int:pk>/diff/", views_report.diff, name="diff"),
    # Excel import and export (views_io.py)
    path("versions/<int:pk>/import/", views_io.import_upload, name="import"),
    path("versions/<int:pk>/export/", views_io.export, name="export"),
]
