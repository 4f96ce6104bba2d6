import pytest

from schools.scope import NO_SCOPE, scope_for


@pytest.mark.parametrize(
    ("persona", "level", "schools"),
    [
        ("pedagogue_a", "school", {"school_a"}),
        ("principal_a", "school", {"school_a"}),
        ("pedagogue_c", "school", {"school_c"}),
        ("district_analyst", "district", {"school_a"}),
        ("region_analyst", "region", {"school_a", "school_b"}),
        ("region_analyst_shy", "region", {"school_c"}),
        ("ministry_analyst", "national", {"school_a", "school_b", "school_c"}),
        ("auditor", "national", {"school_a", "school_b", "school_c"}),
        ("superuser", "national", {"school_a", "school_b", "school_c"}),
        ("norole", "none", set()),
    ],
)
def test_it_gives_each_role_exactly_its_scope(world, persona, level, schools):
    from schools.models import School

    scope = scope_for(world.user(persona))
    assert scope.level == level
    visible = set(School.objects.for_scope(scope).values_list("pk", flat=True))
    assert visible == {getattr(world, s).pk for s in schools}


def test_it_fails_closed_for_anonymous_and_inactive_users(world):
    from django.contrib.auth.models import AnonymousUser

    assert scope_for(AnonymousUser()) == NO_SCOPE
    user = world.user("pedagogue_a")
    user.is_active = False
    assert scope_for(user) == NO_SCOPE


def test_it_limits_family_data_to_school_staff_and_auditors(world):
    sees = {p: scope_for(world.user(p)).sees_family_data for p in world.users}
    assert sees["pedagogue_a"] and sees["principal_a"] and sees["auditor"] and sees["superuser"]
    for p in ("district_analyst", "region_analyst", "ministry_analyst", "rules_admin", "norole"):
        assert not sees[p], p


def test_it_answers_which_regions_and_districts_are_inside(world):
    region = scope_for(world.user("region_analyst"))
    district = scope_for(world.user("district_analyst"))
    national = scope_for(world.user("ministry_analyst"))
    school = scope_for(world.user("pedagogue_a"))
    assert region.contains_region(world.kar.pk) and not region.contains_region(world.shy.pk)
    assert region.contains_district(world.tem.pk, world.kar.pk)
    assert not region.contains_district(world.alf.pk, world.shy.pk)
    assert district.contains_district(world.kaz.pk, world.kar.pk)
    assert not district.contains_district(world.tem.pk, world.kar.pk)
    assert not district.contains_region(world.kar.pk)
    assert national.contains_region(world.shy.pk)
    assert not school.contains_region(world.kar.pk)
    assert not school.contains_district(world.kaz.pk, world.kar.pk)
