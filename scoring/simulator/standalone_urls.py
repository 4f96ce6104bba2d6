"""URLconf of the simulator served alone (``manage.py familycard_sim serve``): at the root."""

from django.urls import include, path

urlpatterns = [
    path("", include("scoring.simulator.urls")),
]
