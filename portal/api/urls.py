from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal.requests.api.urls import urlpatterns as aid_request_urls
from portal.stats.api import StatsView

app_name = "api"

urlpatterns = [
    *aid_request_urls,
    path("stats/", StatsView.as_view(), name="stats"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
