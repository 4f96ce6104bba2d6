from django.urls import path

from portal.administration import views

app_name = "administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("schools/", views.school_list, name="school-list"),
    path("schools/new/", views.school_create, name="school-create"),
    path("schools/import/", views.import_schools, name="import-schools"),
    path("schools/<uuid:public_id>/", views.school_edit, name="school-edit"),
    path("schools/<uuid:public_id>/deactivate/", views.school_deactivate, name="school-deactivate"),
    path("schools/<uuid:public_id>/activate/", views.school_activate, name="school-activate"),
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/new/", views.staff_create, name="staff-create"),
    path("staff/import/", views.import_staff, name="import-staff"),
    path("staff/<uuid:public_id>/", views.staff_edit, name="staff-edit"),
    path("staff/<uuid:public_id>/move/", views.staff_move, name="staff-move"),
    path("staff/<uuid:public_id>/deactivate/", views.staff_deactivate, name="staff-deactivate"),
    path("staff/<uuid:public_id>/activate/", views.staff_activate, name="staff-activate"),
    path("staff/<uuid:public_id>/reset-mfa/", views.staff_mfa_reset, name="staff-mfa-reset"),
]
