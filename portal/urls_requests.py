from django.urls import path

from portal import views_audit, views_requests

app_name = "requests"

urlpatterns = [
    path("requests/", views_requests.aid_request_list, name="aid-request-list"),
    path("requests/new/", views_requests.aid_request_create, name="aid-request-create"),
    path("requests/validate-iin/", views_requests.validate_iin_field, name="validate-iin"),
    path(
        "requests/<uuid:public_id>/",
        views_requests.aid_request_detail,
        name="aid-request-detail",
    ),
    path(
        "requests/<uuid:public_id>/status/",
        views_requests.aid_request_status,
        name="aid-request-status",
    ),
    path(
        "requests/<uuid:public_id>/decide/",
        views_requests.aid_request_decide,
        name="aid-request-decide",
    ),
    path(
        "requests/<uuid:public_id>/contest/",
        views_requests.aid_request_contest,
        name="aid-request-contest",
    ),
    path(
        "requests/<uuid:public_id>/withdraw/",
        views_requests.aid_request_withdraw,
        name="aid-request-withdraw",
    ),
    path("audit/", views_audit.audit_event_list, name="audit-event-list"),
    path("audit/export.csv", views_audit.audit_event_export, name="audit-event-export"),
]
