from django.urls import path

from portal.requests import views

app_name = "requests"

urlpatterns = [
    path("requests/", views.aid_request_list, name="aid-request-list"),
    path("requests/new/", views.aid_request_create, name="aid-request-create"),
    path("requests/validate-iin/", views.validate_iin_field, name="validate-iin"),
    path("requests/class-list/", views.class_list_upload, name="class-list-upload"),
    path(
        "requests/class-list/<str:batch_id>/",
        views.class_list_progress,
        name="class-list-progress",
    ),
    path(
        "requests/<uuid:public_id>/",
        views.aid_request_detail,
        name="aid-request-detail",
    ),
    path(
        "requests/<uuid:public_id>/status/",
        views.aid_request_status,
        name="aid-request-status",
    ),
    path(
        "requests/<uuid:public_id>/decide/",
        views.aid_request_decide,
        name="aid-request-decide",
    ),
    path(
        "requests/<uuid:public_id>/contest/",
        views.aid_request_contest,
        name="aid-request-contest",
    ),
    path(
        "requests/<uuid:public_id>/resubmit/",
        views.aid_request_resubmit,
        name="aid-request-resubmit",
    ),
    path(
        "requests/<uuid:public_id>/sign/",
        views.aid_request_sign,
        name="aid-request-sign",
    ),
    path("signatures/", views.signature_list, name="signature-list"),
    path(
        "requests/<uuid:public_id>/withdraw/",
        views.aid_request_withdraw,
        name="aid-request-withdraw",
    ),
]
