"""URLs of the results app (use part); merged into ``results.urls``."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
