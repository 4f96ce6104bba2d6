from django.urls import path

from portal.audit import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.audit_event_list, name="audit-event-list"),
    path("audit/export.csv", views.audit_event_export, name="audit-event-export"),
    path("audit/person/", views.audit_person_views, name="audit-person-views"),
]
