from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.appeals.api import (
    AidRequestAppealView,
    AppealDecisionView,
    AppealDetailView,
    AppealListView,
)
from portal.budgets.api.urls import urlpatterns as budget_urls
from portal.letters.api import AidRequestLetterView
from portal.payments.api import PaymentReconciliationView, PaymentRegisterView
from portal.requests.api.urls import urlpatterns as aid_request_urls
from portal.stats.api import StatsView

app_name = "api"

urlpatterns = [
    *aid_request_urls,
    *budget_urls,
    path("payments/register/", PaymentRegisterView.as_view(), name="payment-register"),
    path(
        "payments/reconciliation/",
        PaymentReconciliationView.as_view(),
        name="payment-reconciliation",
    ),
    path(
        "aid-requests/<uuid:public_id>/letter/",
        AidRequestLetterView.as_view(),
        name="aid-request-letter",
    ),
    path(
        "aid-requests/<uuid:public_id>/appeal/",
        AidRequestAppealView.as_view(),
        name="aid-request-appeal",
    ),
    path("appeals/", AppealListView.as_view(), name="appeal-list"),
    path("appeals/<uuid:public_id>/", AppealDetailView.as_view(), name="appeal-detail"),
    path(
        "appeals/<uuid:public_id>/decision/",
        AppealDecisionView.as_view(),
        name="appeal-decision",
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
