"""The API's JSON parser, with the body size limit Django applies to forms."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Тело запроса слишком большое.")
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    """Refuses (413) a JSON body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, whatever
    ``Content-Length`` claims (chunked bodies are read up to the limit only)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            request = (parser_context or {}).get("request")
            declared = 0
            if request is not None:
                try:
                    declared = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    declared = 0
            if declared > limit:
                raise RequestBodyTooLarge(_too_large_detail(limit))
            body = stream.read(limit + 1) if stream is not None else b""
            if len(body) > limit:
                raise RequestBodyTooLarge(_too_large_detail(limit))
            import io

            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)


def _too_large_detail(limit: int) -> str:
    return str(_("Тело запроса больше %(kb)d КБ.")) % {"kb": limit // 1024}
