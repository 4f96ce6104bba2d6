"""Mounted by portal/urls.py at /familycard-sim/ (when FAMILY_CARD_SIM_ENABLED)."""

from django.urls import path

from scoring.simulator import views

app_name = "familycard-sim"

urlpatterns = [
    path("v1/cards", views.cards, name="cards"),
    path("v1/cards/batch", views.cards_batch, name="cards-batch"),
    path("v1/health", views.health, name="health"),
]
