from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("home/", views.home, name="home"),
]
