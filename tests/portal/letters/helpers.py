"""Helpers of the letter tests: a decided request with Kazakh names, PDF text extraction."""

from __future__ import annotations

import io
from typing import Any

from portal.letters.models import Letter
from portal.requests import services
from schools.scope import scope_for
from tests.portal.factories import iin_with_category, score, submit

KAZAKH_LETTERS = "әғқңөұүһі"
STUDENT = "Әлібек Ғалымжанұлы Қоңырбаев"
GUARDIAN = "Өмірзақова Үміт Шаһизадақызы"


def decided(world, capture, *, category=(1, 2), outcome="approve", **overrides: Any) -> Letter:
    """A request of school_a, scored and decided; the letter issued on commit."""
    req = submit(
        world,
        student_iin=iin_with_category(*category),
        student_full_name=STUDENT,
        guardian_full_name=GUARDIAN,
        **overrides,
    )
    score(req)
    user = world.user("pedagogue_a")
    kwargs = {"amount_kzt": 50851} if outcome == "approve" else {"reason": "Проверено"}
    with capture(execute=True):
        services.aid_request_decide(
            scope=scope_for(user), actor=user, aid_request=req, outcome=outcome, **kwargs
        )
    return Letter.objects.get(request=req, status="issued")


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def flat(text: str) -> str:
    """Text with all whitespace (line breaks of the layout) collapsed to single spaces."""
    return " ".join(text.split())
