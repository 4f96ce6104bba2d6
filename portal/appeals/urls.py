from django.urls import path

from portal.appeals import views

app_name = "appeals"

urlpatterns = [
    path("requests/<uuid:public_id>/appeal/", views.appeal_create, name="appeal-create"),
    path("appeals/", views.appeal_list, name="appeal-list"),
    path("appeals/<uuid:public_id>/", views.appeal_detail, name="appeal-detail"),
    path("appeals/<uuid:public_id>/decide/", views.appeal_decide, name="appeal-decide"),
    path(
        "appeals/attachments/<uuid:public_id>/",
        views.appeal_attachment,
        name="appeal-attachment",
    ),
]
