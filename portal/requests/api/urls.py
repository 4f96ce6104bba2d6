"""Aid-request routes of the REST API (included, without a namespace of their own, under
``api:`` by `portal.api.urls`)."""

from django.urls import path

from portal.requests.api import views

urlpatterns = [
    path("aid-requests/", views.AidRequestListCreateView.as_view(), name="aid-request-list"),
    path("aid-requests/batch/", views.AidRequestBatchView.as_view(), name="aid-request-batch"),
    path("aid-requests/search/", views.AidRequestSearchView.as_view(), name="aid-request-search"),
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
        "aid-requests/<uuid:public_id>/resubmit/",
        views.AidRequestResubmitView.as_view(),
        name="aid-request-resubmit",
    ),
    path(
        "aid-requests/<uuid:public_id>/sign/",
        views.AidRequestSignView.as_view(),
        name="aid-request-sign",
    ),
    path("signatures/", views.SignatureListView.as_view(), name="signature-list"),
    path(
        "aid-requests/<uuid:public_id>/withdraw/",
        views.AidRequestWithdrawView.as_view(),
        name="aid-request-withdraw",
    ),
]
