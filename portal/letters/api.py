"""``GET /api/v1/aid-requests/{id}/letter/?lang=kk|ru|en``: the decision letter as a PDF."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import ScopedAPIView, client_ip
from portal.letters import services
from portal.letters.views import pdf_response
from portal.requests import selectors


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):  # noqa: ANN201
        if isinstance(data, bytes):
            return data
        return json.dumps(data, default=str).encode()


class AidRequestLetterView(ScopedAPIView):
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("lang", str, enum=list(services.LANGUAGES), required=False)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, public_id: Any) -> Response:
        req = selectors.aid_request_get(scope=self.scope, public_id=public_id)
        language = request.query_params.get("lang") or req.letter_language
        if language not in services.LANGUAGES:
            raise ValidationError({"lang": [_("Укажите kk, ru или en.")]})
        try:
            letter, pdf = services.letter_download(
                scope=self.scope,
                actor=request.user,
                aid_request=req,
                language=language,
                ip=client_ip(request),
                via="api",
            )
        except services.LetterNotAvailable:
            raise NotFound(_("По заявке ещё нет решения, письма нет.")) from None
        return pdf_response(pdf, letter, language)
