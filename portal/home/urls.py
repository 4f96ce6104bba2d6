from django.urls import path

from portal.home import views

app_name = "portal"

urlpatterns = [
    path("home/", views.home, name="home"),
]
