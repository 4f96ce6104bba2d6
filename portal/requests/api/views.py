"""The REST API for aid requests, on the shared base `portal.api.views.ScopedAPIView`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import ScopedAPIView, client_ip
from portal.audit.services import audit_record
from portal.requests import selectors, services
from portal.requests.api import serializers as s
from portal.requests.models import AidRequest


class AidRequestAPIView(ScopedAPIView):
    """Aid-request views: the request in scope (404 otherwise), conflicts as 409."""

    def get_aid_request(self, public_id: Any) -> AidRequest:
        return selectors.aid_request_get(scope=self.scope, public_id=public_id)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.DuplicateAidRequest):
            existing = exc.existing
            return Response(
                {
                    "detail": str(exc),
                    "existing": {
                        "id": str(existing.public_id),
                        "url": reverse("api:aid-request-detail", args=[existing.public_id]),
                    },
                },
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, services.InvalidTransition):
            return Response(
                {"detail": exc.message, "code": "conflict", "state": exc.state},
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, DjangoValidationError) and hasattr(exc, "error_dict"):
            return Response(
                s.api_field_errors(exc.message_dict), status=status.HTTP_400_BAD_REQUEST
            )
        return super().handle_exception(exc)

    def filtered(self, params: dict[str, Any]) -> Any:
        """The scope's requests by the list's validated filters (the list and the search)."""
        return selectors.aid_requests_for_scope(
            scope=self.scope,
            filters={k: params.get(k) for k in (*selectors.FILTERS, "category")},
            search=params.get("q", ""),
            sort=params.get("sort") or "-created",
        )

    def detail_response(
        self, aid_request: AidRequest, code: int = 200, *, new: bool = False
    ) -> Response:
        """The request's detail; ``new``: the caller has just created it (nothing to read)."""
        select = selectors.aid_request_view_new if new else selectors.aid_request_view
        view = select(scope=self.scope, aid_request=aid_request)
        data = s.AidRequestDetailSerializer(
            aid_request, context={"view_data": view, "scope": self.scope}
        ).data
        return Response(data, status=code)


class AidRequestListCreateView(AidRequestAPIView):
    @extend_schema(
        parameters=[s.AidRequestListQuerySerializer],
        responses=s.AidRequestListSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = s.AidRequestListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = self.filtered(query.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        audit_record(
            action="aid_request.list_view",
            scope=self.scope,
            actor=request.user,
            object_type="aid_request",
            school_id=self.scope.school_id,
            ip=client_ip(request),
            detail={"via": "api", "count": len(page)},
        )
        return paginator.get_paginated_response(s.AidRequestListSerializer(page, many=True).data)

    @extend_schema(
        request=s.AidRequestCreateSerializer, responses={201: s.AidRequestDetailSerializer}
    )
    def post(self, request: Request) -> Response:
        self.require_school_staff()
        ser = s.AidRequestCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        req = services.aid_request_submit(
            scope=self.scope, actor=request.user, data=ser.to_service_data(), ip=client_ip(request)
        )
        return self.detail_response(req, status.HTTP_201_CREATED, new=True)

    @property
    def pagination_class(self) -> Any:
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_PAGINATION_CLASS


class AidRequestSearchView(AidRequestAPIView):
    """``POST /api/v1/aid-requests/search/`` with the list's filters in the JSON body (``q``
    may be an ИИН or a name, ``page`` the page number): the search of the list without putting
    personal data into a URL (and so into no proxy's or server's access log)."""

    @extend_schema(
        request=s.AidRequestSearchSerializer, responses=s.AidRequestListSerializer(many=True)
    )
    def post(self, request: Request) -> Response:
        from django.core.paginator import EmptyPage, Paginator

        query = s.AidRequestSearchSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        qs = self.filtered(params)
        from rest_framework.settings import api_settings

        paginator = Paginator(qs, api_settings.PAGE_SIZE)
        try:
            page = paginator.page(params.get("page") or 1)
        except EmptyPage:
            return Response(
                {"page": [_("Нет такой страницы.")]}, status=status.HTTP_400_BAD_REQUEST
            )
        audit_record(
            action="aid_request.list_view",
            scope=self.scope,
            actor=request.user,
            object_type="aid_request",
            school_id=self.scope.school_id,
            ip=client_ip(request),
            detail={"via": "api", "count": len(page.object_list), "search": True},
        )
        return Response(
            {
                "count": paginator.count,
                "page": page.number,
                "pages": paginator.num_pages,
                "results": s.AidRequestListSerializer(page.object_list, many=True).data,
            }
        )


class AidRequestDetailView(AidRequestAPIView):
    @extend_schema(responses=s.AidRequestDetailSerializer)
    def get(self, request: Request, public_id: Any) -> Response:
        req = self.get_aid_request(public_id)
        audit_record(
            action="aid_request.view",
            scope=self.scope,
            actor=request.user,
            object_type="aid_request",
            object_id=str(req.public_id),
            school_id=req.school_id,
            ip=client_ip(request),
            detail={"via": "api"},
        )
        return self.detail_response(req)


class AidRequestDecisionView(AidRequestAPIView):
    @extend_schema(request=s.DecisionInputSerializer, responses=s.AidRequestDetailSerializer)
    def post(self, request: Request, public_id: Any) -> Response:
        self.require_school_staff()
        req = self.get_aid_request(public_id)
        ser = s.DecisionInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        services.aid_request_decide(
            scope=self.scope,
            actor=request.user,
            aid_request=req,
            ip=client_ip(request),
            **ser.validated_data,
        )
        req.refresh_from_db()
        return self.detail_response(req)


class AidRequestContestView(AidRequestAPIView):
    @extend_schema(request=None, responses={202: s.AidRequestDetailSerializer})
    def post(self, request: Request, public_id: Any) -> Response:
        self.require_school_staff()
        req = self.get_aid_request(public_id)
        services.aid_request_contest(
            scope=self.scope, actor=request.user, aid_request=req, ip=client_ip(request)
        )
        req.refresh_from_db()
        return self.detail_response(req, status.HTTP_202_ACCEPTED)


class AidRequestResubmitView(AidRequestAPIView):
    """Needs review → corrected fields / consent (any subset of the create fields) → queued."""

    @extend_schema(
        request=s.AidRequestCreateSerializer, responses={202: s.AidRequestDetailSerializer}
    )
    def post(self, request: Request, public_id: Any) -> Response:
        self.require_school_staff()
        req = self.get_aid_request(public_id)
        ser = s.AidRequestCreateSerializer(data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        services.aid_request_resubmit(
            scope=self.scope,
            actor=request.user,
            aid_request=req,
            data=ser.to_service_data(),
            ip=client_ip(request),
        )
        req.refresh_from_db()
        return self.detail_response(req, status.HTTP_202_ACCEPTED)


class AidRequestWithdrawView(AidRequestAPIView):
    @extend_schema(request=None, responses=s.AidRequestDetailSerializer)
    def post(self, request: Request, public_id: Any) -> Response:
        self.require_school_staff()
        req = self.get_aid_request(public_id)
        services.aid_request_withdraw(
            scope=self.scope, actor=request.user, aid_request=req, ip=client_ip(request)
        )
        req.refresh_from_db()
        return self.detail_response(req)


class AidRequestSignView(AidRequestAPIView):
    """``{"action": "sign"}`` or ``{"action": "refuse", "reason": "…"}``: the principal's
    second signature. 403 for anyone but a principal of the school and for the decider; 409
    when the request's decision does not wait for a signature."""

    @extend_schema(request=s.SignatureInputSerializer, responses=s.AidRequestDetailSerializer)
    def post(self, request: Request, public_id: Any) -> Response:
        if not self.scope.can_sign_decisions:
            raise PermissionDenied(_("Решения подписывает только директор школы."))
        req = self.get_aid_request(public_id)
        ser = s.SignatureInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        if ser.validated_data["action"] == "sign":
            services.aid_request_sign(
                scope=self.scope, actor=request.user, aid_request=req, ip=client_ip(request)
            )
        else:
            services.aid_request_refuse_signature(
                scope=self.scope,
                actor=request.user,
                aid_request=req,
                reason=ser.validated_data["reason"],
                ip=client_ip(request),
            )
        req.refresh_from_db()
        return self.detail_response(req)


class SignatureListView(AidRequestAPIView):
    """The decisions of the principal's school waiting for the second signature."""

    @extend_schema(responses=s.PendingSignatureSerializer(many=True))
    def get(self, request: Request) -> Response:
        if not self.scope.can_sign_decisions:
            raise PermissionDenied(_("Решения подписывает только директор школы."))
        qs = selectors.decisions_awaiting_signature(scope=self.scope)
        from rest_framework.settings import api_settings

        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(qs, request, view=self)
        audit_record(
            action="aid_request.list_view",
            scope=self.scope,
            actor=request.user,
            object_type="aid_request",
            school_id=self.scope.school_id,
            ip=client_ip(request),
            detail={"via": "api", "page": "signatures", "count": len(page)},
        )
        return paginator.get_paginated_response(s.PendingSignatureSerializer(page, many=True).data)


class AidRequestBatchView(AidRequestAPIView):
    """``POST {"items": [<one submission each>], "save_valid": false}`` → a result per item.

    Every item is validated first; with any invalid item nothing is saved (400) unless
    ``save_valid`` is true, then the valid items are saved (201) and the others reported.
    """

    @extend_schema(request=s.AidRequestBatchSerializer, responses={201: dict, 400: dict})
    def post(self, request: Request) -> Response:
        from portal.requests import batch

        self.require_school_staff()
        body = s.AidRequestBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items = body.validated_data["items"]
        save_valid = body.validated_data["save_valid"]
        results: list[dict[str, Any]] = [{"index": i} for i in range(len(items))]
        rows: list[tuple[int, dict[str, Any]]] = []
        for i, item in enumerate(items):
            ser = s.AidRequestCreateSerializer(data=item)
            if ser.is_valid():
                rows.append((i, ser.to_service_data()))
            else:
                results[i].update(status="invalid", errors=ser.errors)
        invalid_first = any("errors" in r for r in results)
        try:
            if rows and (save_valid or not invalid_first):
                outcome = batch.aid_requests_submit_batch(
                    scope=self.scope,
                    actor=request.user,
                    rows=rows,
                    save_valid=save_valid,
                    ip=client_ip(request),
                    via="api",
                )
            elif rows:  # nothing will be saved: still report every item's problems
                _valid, errors = batch.validate_rows(
                    scope=self.scope, actor=request.user, rows=rows
                )
                outcome = batch.BatchResult(errors=errors, lines=len(rows))
            else:
                outcome = batch.BatchResult()
        except DjangoValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        for error in outcome.errors:
            entry = results[error.line]
            entry["status"] = "invalid"
            entry.setdefault("errors", {}).setdefault(error.field or "non_field_errors", []).append(
                error.message
            )
        for line, req in zip(outcome.created_lines, outcome.created, strict=True):
            results[line].update(status="created", id=str(req.public_id), request_status=req.status)
        for entry in results:
            entry.setdefault("status", "not_saved")
        payload = {
            "batch": outcome.batch_id or None,
            "created": len(outcome.created),
            "invalid": sum(1 for r in results if r["status"] == "invalid"),
            "items": results,
        }
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_400_BAD_REQUEST
        return Response(payload, status=code)
