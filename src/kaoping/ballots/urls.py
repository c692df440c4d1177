from django.urls import path

from . import debriefing_views, paper_views, results_views, views

app_name = "ballots"
urlpatterns: list = [
    # 民主测评: design, tokens, voting window, turnout (organizers); identified voting (members)
    path("campaign/<int:campaign_pk>/", views.campaign_appraisals, name="campaign_appraisals"),
    path("campaign/<int:campaign_pk>/new/", views.appraisal_create, name="appraisal_create"),
    path("campaign/<int:campaign_pk>/turnout/", views.campaign_turnout, name="campaign_turnout"),
    path("campaign/<int:campaign_pk>/close-all/", views.close_all, name="close_all"),
    path("<int:pk>/", views.appraisal_detail, name="appraisal_detail"),
    path("<int:pk>/edit/", views.appraisal_edit, name="appraisal_edit"),
    path("<int:pk>/tokens/", views.tokens_issue, name="tokens_issue"),
    path("<int:pk>/tokens/void/", views.tokens_void, name="tokens_void"),
    path("<int:pk>/open/", views.appraisal_open, name="appraisal_open"),
    path("<int:pk>/close/", views.appraisal_close, name="appraisal_close"),
    path("<int:pk>/turnout/", views.appraisal_turnout, name="appraisal_turnout"),
    path("mine/", views.my_appraisals, name="my_appraisals"),
    path("<int:pk>/vote/", views.vote_identified, name="vote_identified"),
]

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
