r"""The API's JSON parser: bounded (size, nesting) and exact (``scoring.jsondoc``).

Every JSON body goes through :func:`scoring.jsondoc.load_json_document`: numbers with a
fraction or an exponent are exact ``Decimal``\ s (never binary floats), NaN/Infinity, repeated
keys and lone surrogates are refused, nesting is limited to ``MAX_DEPTH``; a malformed body is
a 400 with the reason, a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` a 413."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from scoring.jsondoc import MAX_DEPTH, JSONDocumentError, load_json_document


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
        body = b""
        if stream is not None:
            body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestBodyTooLarge(_too_large_detail(limit))
        try:
            return load_json_document(body, max_bytes=None, max_depth=MAX_DEPTH)
        except JSONDocumentError as exc:
            raise ParseError(_("Некорректный JSON: %(reason)s") % {"reason": exc.reason}) from None


def _too_large_detail(limit: int) -> str:
    return str(_("Тело запроса больше %(kb)d КБ.")) % {"kb": limit // 1024}
