"""The results app's URLs: result pages, approval and publication (page_urls), appeals and
corrections (appeal_urls), result use (use_urls)."""

from . import appeal_urls, page_urls, use_urls

app_name = "results"
urlpatterns = [*page_urls.urlpatterns, *appeal_urls.urlpatterns, *use_urls.urlpatterns]
