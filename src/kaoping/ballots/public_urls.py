"""The public ballot pages (no login): /v/<token>."""

from django.urls import path

from . import public_views

app_name = "vote"
urlpatterns: list = [
    path("", public_views.entry, name="entry"),
    path("thanks/", public_views.thanks, name="thanks"),
    path("<str:credential>/", public_views.ballot, name="ballot"),
]
