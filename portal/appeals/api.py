"""The appeals in the REST API.

``POST /api/v1/aid-requests/{id}/appeal/`` (the school: JSON, or multipart with files in
``attachments`` and ``disputed`` as JSON text), ``GET /api/v1/appeals/`` (``?state=open``,
``overdue``, ``decided``, ``all``), ``GET /api/v1/appeals/{id}/`` and
``POST /api/v1/appeals/{id}/decision/`` (the district's reviewer).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.parsers import LimitedJSONParser
from portal.api.views import ScopedAPIView, client_ip
from portal.appeals import selectors, services
from portal.appeals.models import REASON_MAX_LENGTH, Appeal
from portal.requests import selectors as request_selectors
from portal.requests.lifecycle import InvalidTransition
from portal.requests.models import Decision


def _decision(d: Decision | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "id": str(d.public_id),
        "outcome": d.outcome,
        "amount_kzt": d.amount_kzt,
        "decided_at": d.created_at,
        "in_force": d.superseded_at is None,
    }


def appeal_data(appeal: Appeal, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(appeal.public_id),
        "aid_request": str(appeal.request.public_id),
        "school_bin": appeal.school.bin,
        "status": appeal.status,
        "outcome": appeal.outcome or None,
        "filed_at": appeal.filed_at,
        "answer_due": appeal.answer_due,
        "overdue": appeal.is_overdue(),
        "decided_at": appeal.decided_at,
        "decision": _decision(appeal.decision),
        "new_decision": _decision(appeal.new_decision),
    }
    if detail:
        data |= {
            "reason": appeal.reason,
            "disputed": appeal.disputed,
            "outcome_note": appeal.outcome_note,
            "attachments": [
                {
                    "id": str(a.public_id),
                    "name": a.original_name,
                    "content_type": a.content_type,
                    "size": a.size,
                    "sha256": a.sha256,
                }
                for a in appeal.attachments.all()
            ],
        }
    return data


class AppealInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=True)
    disputed = serializers.JSONField(required=False)


class AppealDecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Appeal.Outcome.choices)
    note = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=True)
    new_outcome = serializers.ChoiceField(
        choices=Decision.Outcome.choices, required=False, allow_blank=True
    )
    amount_kzt = serializers.IntegerField(required=False, allow_null=True)


class AppealAPIView(ScopedAPIView):
    """Appeal views: the school's staff, the district's reviewer and the auditor (checked per
    view); conflicts answer 409, field errors 400 naming the field."""

    family_level = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        selectors.require_appeal_reader(self.scope)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, InvalidTransition):
            return Response(
                {"detail": exc.message, "code": "conflict", "state": exc.state},
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, DjangoValidationError) and hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)


class AidRequestAppealView(AppealAPIView):
    parser_classes = [LimitedJSONParser, MultiPartParser]

    @extend_schema(
        request={
            "application/json": AppealInputSerializer,
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "reason": {"type": "string"},
                    "disputed": {"type": "string", "description": "JSON list"},
                    "attachments": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                    },
                },
                "required": ["reason"],
            },
        },
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, public_id: Any) -> Response:
        self.require_school_staff()
        req = request_selectors.aid_request_get(scope=self.scope, public_id=public_id)
        data = request.data
        disputed = data.get("disputed")
        if isinstance(disputed, str):
            try:
                disputed = json.loads(disputed) if disputed.strip() else None
            except ValueError:
                raise ValidationError(
                    {"disputed": [_("Ожидается список оспариваемых сведений в JSON.")]}
                ) from None
        reason = data.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ValidationError({"reason": [_("Ожидается текст.")]})
        files = request.FILES.getlist("attachments") if hasattr(request, "FILES") else []
        appeal = services.appeal_file(
            scope=self.scope,
            actor=request.user,
            aid_request=req,
            reason=reason or "",
            disputed=disputed,
            files=files,
            ip=client_ip(request),
        )
        return Response(appeal_data(appeal, detail=True), status=status.HTTP_201_CREATED)


class AppealListView(AppealAPIView):
    @extend_schema(
        operation_id="appeals_list",
        parameters=[
            OpenApiParameter("state", str, enum=list(selectors.FILTERS)),
            OpenApiParameter("page", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        from portal.audit.services import AuditAction, audit_record

        state = request.query_params.get("state") or "open"
        if state not in selectors.FILTERS:
            raise ValidationError(
                {"state": [_("Допустимо: %(v)s.") % {"v": ", ".join(selectors.FILTERS)}]}
            )
        qs = selectors.appeals_for_scope(scope=self.scope, state=state)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        audit_record(
            action=AuditAction.APPEAL_LIST_VIEW,
            scope=self.scope,
            actor=request.user,
            object_type="appeal",
            school_id=self.scope.school_id,
            ip=client_ip(request),
            detail={"via": "api", "state": state, "count": len(page)},
        )
        return paginator.get_paginated_response([appeal_data(a) for a in page])

    @property
    def pagination_class(self) -> Any:
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_PAGINATION_CLASS


class AppealDetailView(AppealAPIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, public_id: Any) -> Response:
        appeal = selectors.appeal_get(scope=self.scope, public_id=public_id)
        services.appeal_audit_view(
            scope=self.scope, actor=request.user, appeal=appeal, ip=client_ip(request), via="api"
        )
        return Response(appeal_data(appeal, detail=True))


class AppealDecisionView(AppealAPIView):
    @extend_schema(request=AppealDecisionSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, public_id: Any) -> Response:
        appeal = selectors.appeal_get(scope=self.scope, public_id=public_id)
        if not self.scope.can_review_appeals:
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied(_("Жалобы рассматривает отдел образования района."))
        ser = AppealDecisionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        v = ser.validated_data
        appeal = services.appeal_decide(
            scope=self.scope,
            actor=request.user,
            appeal=appeal,
            outcome=v["outcome"],
            note=v.get("note", ""),
            new_outcome=v.get("new_outcome") or "",
            amount_kzt=v.get("amount_kzt"),
            ip=client_ip(request),
        )
        appeal.refresh_from_db()
        return Response(appeal_data(appeal, detail=True))
