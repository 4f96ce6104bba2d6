"""Reads of accounts: the API tokens of the scope's own user (nobody else's)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from portal.accounts.models import ApiToken
from schools.scope import Scope


def api_tokens_of_user(*, scope: Scope) -> QuerySet[ApiToken]:
    if scope.user_id is None:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=scope.user_id).order_by("-created")


def api_token_of_user(*, scope: Scope, public_id: Any) -> ApiToken | None:
    try:
        return api_tokens_of_user(scope=scope).filter(public_id=public_id).first()
    except ValidationError:
        return None
