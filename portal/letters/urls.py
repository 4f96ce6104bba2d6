from django.urls import path

from portal.letters import views

app_name = "letters"

urlpatterns = [
    path("verify/", views.verify_form, name="verify-form"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("requests/<uuid:public_id>/letter/", views.letter_download, name="letter-download"),
]
