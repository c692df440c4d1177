from django.urls import path

from . import debriefing_views, paper_views, results_views

app_name = "ballots"
urlpatterns: list = []

# Paper ballots, the tally and integrity signals, 述职评议 (paper_views, results_views,
# debriefing_views)
urlpatterns += [
    path("<int:pk>/paper/", paper_views.paper_entry, name="paper_entry"),
    path("<int:pk>/paper/mismatches/", paper_views.paper_mismatches, name="paper_mismatches"),
    path("<int:pk>/paper/<int:sheet_no>/resolve/", paper_views.paper_resolve, name="paper_resolve"),
    path("<int:pk>/results/", results_views.results, name="results"),
    path("<int:pk>/results/export/", results_views.results_export, name="results_export"),
    path("campaign/<int:pk>/results/", results_views.campaign_results, name="campaign_results"),
    path("debriefing/mine/", debriefing_views.debriefing_mine, name="debriefing_mine"),
    path(
        "campaign/<int:pk>/debriefing/",
        debriefing_views.debriefing_meeting,
        name="debriefing_meeting",
    ),
    path(
        "campaign/<int:pk>/debriefing/<int:target_pk>/comment/",
        debriefing_views.debriefing_comment,
        name="debriefing_comment",
    ),
    path(
        "campaign/<int:campaign_pk>/debriefing/<int:target_pk>/report/",
        debriefing_views.debriefing_report,
        name="debriefing_report",
    ),
]
