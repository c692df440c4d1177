"""The public ballot pages (no login): /v/<token>."""

app_name = "vote"
urlpatterns: list = []
