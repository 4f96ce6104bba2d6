"""The shared base of the REST API. `ScopedAPIView` owns the scope: every API view inherits it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.db_scope import db_scope_apply
from schools.scope import Scope, scope_for


def client_ip(request: Any) -> str | None:
    """The client's address, behind ``TRUSTED_PROXY_COUNT`` proxies (one rule for the site)."""
    from portal.accounts.throttle import client_ip as _client_ip

    return _client_ip(getattr(request, "_request", request))


class ScopedAPIView(APIView):
    """The one place the API gets its scope (from `schools.scope.scope_for`).

    ``family_level`` views answer 403 to anyone who may not see family data (analysts,
    rules administrators, users without a role); objects outside the scope are 404.
    """

    family_level = True

    @property
    def scope(self) -> Scope:
        if not hasattr(self, "_scope"):
            self._scope = scope_for(self.request.user)
        return self._scope

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # token-authenticated calls get their user only now: row-level security follows
        db_scope_apply(self.scope)
        if self.family_level and not self.scope.sees_family_data:
            raise PermissionDenied

    def require_school_staff(self) -> None:
        if not self.scope.can_act_on_requests:
            raise PermissionDenied

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            )
        elif isinstance(exc, DjangoPermissionDenied):
            exc = PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)
