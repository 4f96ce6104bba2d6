from django.urls import path

from schools import views

app_name = "schools"

urlpatterns = [
    path("", views.school_list, name="school-list"),
    path("<uuid:public_id>/", views.school_detail, name="school-detail"),
]
