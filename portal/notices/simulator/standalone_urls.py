"""URLconf of the SMS simulator served alone (``manage.py sms_sim serve``): at the root."""

from django.urls import include, path

urlpatterns = [path("", include("portal.notices.simulator.urls"))]
