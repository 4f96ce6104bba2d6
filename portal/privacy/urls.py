from django.urls import path

from portal.privacy import views

app_name = "privacy"

urlpatterns = [
    path("privacy/register/", views.privacy_register, name="register"),
    path("privacy/holds/", views.retention_holds, name="retention-holds"),
    path("privacy/person-record/", views.person_record, name="person-record"),
    path("privacy/holds/release/", views.retention_hold_release, name="retention-hold-release"),
]
