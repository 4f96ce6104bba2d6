"""Helpers of the appeal tests: a decided request of school_a, small valid and forged files."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.requests import services
from portal.requests.models import AidRequest
from schools.scope import scope_for
from tests.portal.factories import iin_with_category, score, submit


def decided(
    world, *, outcome: str = "reject", category=(1, 2), persona: str = "pedagogue_a", **kw: Any
) -> AidRequest:
    """A request of school_a, scored (a category in ``category``) and decided."""
    req = submit(world, persona=persona, student_iin=iin_with_category(*category), **kw)
    score(req)
    user = world.user(persona)
    extra = {"amount_kzt": 40000} if outcome == "approve" else {"reason": "Проверено комиссией"}
    decision = services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=req, outcome=outcome, **extra
    )
    if decision.awaits_signature:  # against the recommendation: the principal signs
        principal = world.user("principal_a")
        services.aid_request_sign(scope=scope_for(principal), actor=principal, aid_request=req)
    req.refresh_from_db()
    return req


def salary_path(req: AidRequest) -> tuple[str, int]:
    """The path of the first member's salary in the request's card, and its value."""
    card = req.decisions.get(superseded_at__isnull=True).assessment.card
    return "members[0].incomes.salary", card["members"][0]["incomes"]["salary"]


def png_file(name: str = "справка.png") -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def pdf_file(name: str = "spravka.pdf") -> SimpleUploadedFile:
    body = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def forged_pdf(name: str = "virus.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
