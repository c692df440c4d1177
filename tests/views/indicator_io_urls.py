"""The project's URLs plus the two import/library routes, for as long as the indicators URLconf
does not route them yet (``import/`` → ``indicators:import_new``, ``library/`` →
``indicators:library``)."""

from django.urls import include, path

from kaoping import urls as root
from kaoping.indicators import urls as indicators
from kaoping.indicators import views_io

names = {p.name for p in indicators.urlpatterns}
extra = [
    path("import/", views_io.import_upload, name="import_new"),
    path("library/", views_io.library, name="library"),
]
patterns = [*indicators.urlpatterns, *(p for p in extra if p.name not in names)]
urlpatterns = [
    *(p for p in root.urlpatterns if str(p.pattern) != "schemes/"),
    path("schemes/", include((patterns, "indicators"))),
]
handler403 = root.handler403
handler404 = root.handler404
