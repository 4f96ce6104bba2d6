import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_for(world):
    def make(persona: str) -> APIClient:
        c = APIClient()
        c.force_authenticate(world.user(persona))
        return c

    return make
