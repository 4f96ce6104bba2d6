from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.api import views
from portal.stats.api import StatsView

app_name = "api"

urlpatterns = [
    path("aid-requests/", views.AidRequestListCreateView.as_view(), name="aid-request-list"),
    path(
        "aid-requests/<uuid:public_id>/",
        views.AidRequestDetailView.as_view(),
        name="aid-request-detail",
    ),
    path(
        "aid-requests/<uuid:public_id>/decision/",
        views.AidRequestDecisionView.as_view(),
        name="aid-request-decision",
    ),
    path(
        "aid-requests/<uuid:public_id>/contest/",
        views.AidRequestContestView.as_view(),
        name="aid-request-contest",
    ),
    path(
        "aid-requests/<uuid:public_id>/withdraw/",
        views.AidRequestWithdrawView.as_view(),
        name="aid-request-withdraw",
    ),
    path("stats/", StatsView.as_view(), name="stats"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from ?script (no inline script under the CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
]
