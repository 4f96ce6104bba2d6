"""As the application role (row-level security on): the public verification still finds a
genuine letter (a deliberate cross-school look-up), and letters and notices follow the scope."""

from __future__ import annotations

from django.urls import reverse

from portal.db_scope import db_scope_clear
from portal.letters.models import Letter
from portal.notices.models import Notice
from tests.portal.letters.helpers import decided
from tests.portal.test_security_db_roles import as_app, role  # noqa: F401 - fixtures


def test_it_verifies_and_downloads_as_the_application_role(
    world,
    no_enqueue,
    django_capture_on_commit_callbacks,
    as_app,  # noqa: F811 - the fixture imported above
    client_for,
):
    letter = decided(world, django_capture_on_commit_callbacks)
    anon, pedagogue, other = (
        client_for("anon"),
        client_for("pedagogue_a"),
        client_for("pedagogue_c"),
    )
    url = reverse("letters:letter-download", args=[letter.request.public_id])
    school_name = letter.school.name_ru
    as_app()
    db_scope_clear()
    html = anon.get(reverse("letters:verify", args=[letter.code_grouped])).content.decode()
    assert "Письмо с этим кодом выдано" in html and school_name in html
    assert pedagogue.get(url, {"lang": "ru"}).status_code == 200
    assert other.get(url, {"lang": "ru"}).status_code == 404
    # between requests the connection sees no letter and no notice
    assert Letter.objects.unscoped().count() == 0
    assert Notice.objects.unscoped().count() == 0
