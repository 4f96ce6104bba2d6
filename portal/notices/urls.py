from django.urls import path

from portal.notices import views

app_name = "notices"

urlpatterns = [
    path(
        "requests/<uuid:public_id>/notices/opt-out/",
        views.notices_opt_out,
        name="notices-opt-out",
    ),
]
