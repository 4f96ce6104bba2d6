"""Attachments of an appeal: PDF, JPEG or PNG, size-limited, the type decided by the content
(never by the name or the browser's claim). Images are opened and verified by Pillow; a PDF
must start with the PDF header and carry an end-of-file marker."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from portal.appeals.models import AppealAttachment

NAME_MAX = 200


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def _image_type(content: bytes) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as img:
            fmt = img.format
            img.verify()  # a truncated or corrupt image fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return {"JPEG": AppealAttachment.Kind.JPEG, "PNG": AppealAttachment.Kind.PNG}.get(fmt or "")


def _is_pdf(content: bytes) -> bool:
    return content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]


def sniff(content: bytes) -> str | None:
    """The attachment's type by its content, or None when it is none of PDF, JPEG, PNG."""
    if _is_pdf(content):
        return AppealAttachment.Kind.PDF
    if content[:3] == b"\xff\xd8\xff" or content[:8] == b"\x89PNG\r\n\x1a\n":
        return _image_type(content)
    return None


def _clean_name(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "file"
    return name[:NAME_MAX]


def check_files(files: list[Any]) -> tuple[list[CheckedFile], list[str]]:
    """The uploaded files checked: (the good ones, errors in words naming each bad file)."""
    limit = int(settings.APPEAL_ATTACHMENT_MAX_BYTES)
    most = int(settings.APPEAL_ATTACHMENTS_MAX)
    errors: list[str] = []
    out: list[CheckedFile] = []
    if len(files) > most:
        errors.append(_("Можно приложить не больше %(n)s файлов.") % {"n": most})
        return [], errors
    for f in files:
        name = _clean_name(getattr(f, "name", "") or "")
        size = getattr(f, "size", None)
        if size is not None and size > limit:
            errors.append(
                _("Файл «%(name)s» больше %(mb)s МБ.")
                % {"name": name, "mb": f"{limit / (1024 * 1024):g}"}
            )
            continue
        content = f.read(limit + 1)
        if len(content) > limit:
            errors.append(
                _("Файл «%(name)s» больше %(mb)s МБ.")
                % {"name": name, "mb": f"{limit / (1024 * 1024):g}"}
            )
            continue
        if not content:
            errors.append(_("Файл «%(name)s» пуст.") % {"name": name})
            continue
        kind = sniff(content)
        if kind is None:
            errors.append(
                _("Файл «%(name)s» не PDF, JPEG или PNG (тип проверяется по содержимому).")
                % {"name": name}
            )
            continue
        out.append(CheckedFile(name, content, kind, hashlib.sha256(content).hexdigest()))
    return out, errors
