"""URLconf of the simulator served alone (``manage.py familycard_sim serve``): at the root."""

from django.urls import include, path

urlpatterns = [
    path("", include("scoring.simulator.urls")),
]

handler404 = "scoring.simulator.views.route_not_found"
