"""Shared fixtures: the world (two regions, three schools, one persona per role)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from schools.demo import demo_totp_secret, enroll_mfa
from schools.identifiers import make_identifier
from schools.models import District, Membership, Region, Role, School
from schools.services import geography_ensure, staff_member_create

PASSWORD = "Correct-Horse-42"


def make_bin(seed: int) -> str:
    n = seed
    while True:
        value = make_identifier(f"{990140:06d}{n:05d}")
        if value:
            return value
        n += 1


@dataclass
class World:
    kar: Region
    shy: Region
    kaz: District
    tem: District
    alf: District
    school_a: School  # KAR, Kazybek Bi district
    school_b: School  # KAR, Temirtau
    school_c: School  # SHY, Al-Farabi
    users: dict

    def user(self, persona: str):
        return self.users[persona]


PERSONAS = {
    # persona: (role, unit attr)
    "pedagogue_a": (Role.PEDAGOGUE, "school_a"),
    "principal_a": (Role.PRINCIPAL, "school_a"),
    "pedagogue_b": (Role.PEDAGOGUE, "school_b"),
    "pedagogue_c": (Role.PEDAGOGUE, "school_c"),
    "district_analyst": (Role.DISTRICT_ANALYST, "kaz"),
    "region_analyst": (Role.REGION_ANALYST, "kar"),
    "region_analyst_shy": (Role.REGION_ANALYST, "shy"),
    "ministry_analyst": (Role.MINISTRY_ANALYST, None),
    "rules_admin": (Role.RULES_ADMIN, None),
    "rules_admin2": (Role.RULES_ADMIN, None),
    "auditor": (Role.AUDITOR, None),
    "network_admin": (Role.NETWORK_ADMIN, None),
    "district_finance": (Role.DISTRICT_FINANCE, "kaz"),
    "district_reviewer": (Role.DISTRICT_REVIEWER, "kaz"),
    "district_reviewer_tem": (Role.DISTRICT_REVIEWER, "tem"),
}


def _school(district: District, n: int, seed: int) -> School:
    s = School(
        district=district,
        bin=make_bin(seed),
        name_ru=f"КГУ «Общеобразовательная школа №{n}»",
        name_kk=f"«№{n} жалпы білім беретін мектеп» КММ",
        number=n,
        student_count=500 + n,
    )
    s.full_clean()
    s.save()
    return s


@pytest.fixture
def world(db) -> World:
    geography_ensure()
    kar, shy = Region.objects.get(code="KAR"), Region.objects.get(code="SHY")
    kaz, tem, alf = (District.objects.get(code=c) for c in ("KAR-KAZ", "KAR-TEM", "SHY-ALF"))
    w = World(
        kar, shy, kaz, tem, alf, _school(kaz, 1, 11), _school(tem, 2, 22), _school(alf, 3, 33), {}
    )
    for persona, (role, unit) in PERSONAS.items():
        kwargs = {}
        if unit:
            obj = getattr(w, unit)
            key = {School: "school", District: "district", Region: "region"}[type(obj)]
            kwargs[key] = obj
        m = staff_member_create(
            username=persona,
            full_name=f"Тестов {persona}",
            email=f"{persona}@test.kz",
            role=role,
            unit_kwargs=kwargs,
            password=PASSWORD,
        )
        enroll_mfa(m.user, demo_totp_secret(persona))
        w.users[persona] = m.user
    User = get_user_model()
    su = User.objects.create_superuser("superuser", "su@test.kz", PASSWORD)
    enroll_mfa(su, demo_totp_secret("superuser"))
    w.users["superuser"] = su
    w.users["norole"] = User.objects.create_user("norole", "norole@test.kz", PASSWORD)
    enroll_mfa(w.users["norole"], demo_totp_secret("norole"))
    w.users["nomfa"] = staff_member_create(
        username="nomfa",
        full_name="Без MFA",
        email="nomfa@test.kz",
        role=Role.PEDAGOGUE,
        unit_kwargs={"school": w.school_a},
        password=PASSWORD,
    ).user
    assert Membership.objects.count() == len(PERSONAS) + 1
    return w


@pytest.fixture
def client_for(client, world):
    """client_for("pedagogue_a") → a Django test client signed in as that persona (password
    and TOTP, as the sign-in flow leaves it; see tests/auth.py)."""
    from django.test import Client

    def make(persona: str) -> Client:
        from tests.auth import login_with_mfa

        c = Client()
        if persona != "anon":
            login_with_mfa(c, world.user(persona))
        return c

    return make


@pytest.fixture(autouse=True)
def _default_language():
    """A page in another language activates it for the thread: start every test in Russian."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and used TOTP codes live in the cache: give each test a clean namespace."""
    yield
    from django.conf import settings

    from tests.django_redis_keys import delete_prefix

    delete_prefix(settings.CACHES["default"]["KEY_PREFIX"])


@pytest.fixture(autouse=True)
def _default_ruleset(request):
    """Transactional tests end with a flush that also removes data-migration rows: put the
    default published rule set (KZ-2026.1) back for every test that uses the database."""
    names = set(request.fixturenames)
    if not (
        {"db", "transactional_db", "live_server"} & names
        or request.node.get_closest_marker("django_db")
    ):
        return
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & names or (
        marker is not None and marker.kwargs.get("transaction")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    import importlib

    from django.apps import apps as django_apps

    migration = importlib.import_module("scoring.migrations.0002_default_ruleset")
    migration.load_default_ruleset(django_apps, None)


@pytest.fixture(autouse=True)
def notices_sent(request, monkeypatch):
    """Notice deliveries the services would send to Celery (on commit), recorded instead of
    sent; a test that runs a real worker for them (``sms_worker``) sends them for real."""
    sent: list[int] = []
    if "sms_worker" not in request.fixturenames:
        from portal.notices import services as notice_services

        monkeypatch.setattr(notice_services, "_enqueue", sent.append)
    return sent
