"""Shared fixtures: the world (two regions, three schools, one persona per role)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from schools.demo import demo_totp_secret, enroll_mfa
from schools.identifiers import make_identifier
from schools.models import District, Membership, Region, Role, School
from schools.services import geography_ensure

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
    return build_world()


# The second factor of each persona as stored by allauth (encrypted TOTP secret, recovery-code
# seed): enrolled for real in the first world of the session, copied into every later one.
_MFA_ROWS: dict[str, list[tuple[str, dict]]] = {}
_PASSWORD_HASH: list[str] = []


def _unit_kwargs(w: World, unit: str | None) -> dict:
    if not unit:
        return {}
    obj = getattr(w, unit)
    return {{School: "school", District: "district", Region: "region"}[type(obj)]: obj}


def _enroll_all(users: dict) -> None:
    """Every user but ``nomfa`` with TOTP and recovery codes, as ``enroll_mfa`` leaves them."""
    from allauth.mfa.models import Authenticator

    rows = []
    for username, user in users.items():
        if username == "nomfa":
            continue
        if username not in _MFA_ROWS:
            enroll_mfa(user, demo_totp_secret(username))
            _MFA_ROWS[username] = list(
                Authenticator.objects.filter(user=user).values_list("type", "data")
            )
            continue
        rows += [Authenticator(user=user, type=t, data=d) for t, d in _MFA_ROWS[username]]
    Authenticator.objects.bulk_create(rows)


def _geography() -> None:
    """The reference regions and districts (as ``geography_ensure``), inserted in two writes
    into an empty database."""
    from schools import services

    if Region.objects.exists():
        geography_ensure()
        return
    regions = Region.objects.bulk_create(Region(**r) for r in services.REGIONS)
    by_code = {r.code: r for r in regions}
    District.objects.bulk_create(
        District(code=code, region=by_code[region], kind=kind, name_ru=ru, name_kk=kk, name_en=en)
        for code, region, kind, ru, kk, en, _count in services.DISTRICTS
    )


def build_world() -> World:
    """The world in a few set-based writes (users, memberships, groups, authenticators): the
    same rows ``staff_member_create`` and ``enroll_mfa`` write, at a fraction of the queries."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    _geography()
    kar, shy = Region.objects.get(code="KAR"), Region.objects.get(code="SHY")
    kaz, tem, alf = (District.objects.get(code=c) for c in ("KAR-KAZ", "KAR-TEM", "SHY-ALF"))
    w = World(
        kar, shy, kaz, tem, alf, _school(kaz, 1, 11), _school(tem, 2, 22), _school(alf, 3, 33), {}
    )
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(make_password(PASSWORD))
    password = _PASSWORD_HASH[0]
    User = get_user_model()
    admin_roles = {Role.RULES_ADMIN, Role.AUDITOR}
    users = {
        persona: User(
            username=persona,
            email=f"{persona}@test.kz",
            is_staff=role in admin_roles,
            last_name="Тестов",
            first_name=persona,
            password=password,
        )
        for persona, (role, _unit) in PERSONAS.items()
    }
    users["superuser"] = User(
        username="superuser",
        email="su@test.kz",
        is_staff=True,
        is_superuser=True,
        password=password,
    )
    users["norole"] = User(username="norole", email="norole@test.kz", password=password)
    users["nomfa"] = User(
        username="nomfa",
        email="nomfa@test.kz",
        last_name="Без",
        first_name="MFA",
        password=password,
    )
    User.objects.bulk_create(users.values())
    staff = [(p, role, unit, f"Тестов {p}") for p, (role, unit) in PERSONAS.items()]
    staff.append(("nomfa", Role.PEDAGOGUE, "school_a", "Без MFA"))
    Membership.objects.bulk_create(
        Membership(user=users[p], full_name=name, role=role, **_unit_kwargs(w, unit))
        for p, role, unit, name in staff
    )
    groups = {g.name: g for g in Group.objects.filter(name__in=admin_roles)}
    through = User.groups.through
    through.objects.bulk_create(
        through(user_id=users[p].pk, group_id=groups[role].pk)
        for p, (role, _unit) in PERSONAS.items()
        if role in groups
    )
    _enroll_all(users)
    w.users.update(users)
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
        from django.db import transaction

        from portal.notices import services as notice_services

        monkeypatch.setattr(notice_services, "_enqueue", sent.append)
        monkeypatch.setattr(
            notice_services,
            "_enqueue_on_commit",
            lambda pk: transaction.on_commit(lambda: sent.append(pk), robust=True),
        )
        monkeypatch.setattr(notice_services, "_enqueue_many", sent.extend)
    return sent


PRODUCTION_MODE_TESTS = "tests/portal/test_production_mode.py"


def pytest_collection_finish(session: pytest.Session) -> None:
    """The production-mode tests' ``collectstatic`` starts in the background when they are
    collected (it takes ~40 s and needs no database)."""
    if any(item.nodeid.startswith(PRODUCTION_MODE_TESTS) for item in session.items):
        from tests.portal.test_production_mode import start_collectstatic

        start_collectstatic()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import sys

    module = sys.modules.get("tests.portal.test_production_mode")
    if module is not None:
        module.stop_collectstatic()
