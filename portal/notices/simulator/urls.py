"""Mounted by portal/urls.py at /sms-sim/ (when SMS_SIM_ENABLED)."""

from django.urls import path

from portal.notices.simulator import views

app_name = "sms-sim"

urlpatterns = [
    path("v1/messages", views.messages, name="messages"),
    path("v1/health", views.health, name="health"),
]
