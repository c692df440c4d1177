from django.urls import include, path

urlpatterns = [
    # First: the ballot pages take the most requests, and Django tries patterns in order.
    path("v/", include("kaoping.ballots.public_urls")),
    path("", include("kaoping.core.urls")),
    path("accounts/", include("kaoping.accounts.urls")),
    path("audit/", include("kaoping.audit.urls")),
    path("orgs/", include("kaoping.organizations.urls")),
    path("jobs/", include("kaoping.jobs.urls")),
    path("schemes/", include("kaoping.indicators.urls")),
    path("campaigns/", include("kaoping.campaigns.urls")),
    path("collect/", include("kaoping.collection.urls")),
    path("appraisals/", include("kaoping.ballots.urls")),
    path("results/", include("kaoping.results.urls")),
    path("rectification/", include("kaoping.rectification.urls")),
]

handler403 = "kaoping.core.views.permission_denied"
handler404 = "kaoping.core.views.page_not_found"
