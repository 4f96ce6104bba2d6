"""OpenAPI (drf-spectacular) descriptions of the API's two ways to authenticate."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class MFASessionScheme(OpenApiAuthenticationExtension):
    target_class = "portal.accounts.authentication.MFASessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A browser session that completed password and TOTP sign-in.",
        }


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.accounts.authentication.ApiTokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: an API token (account menu → API-токены, or "
            "`manage.py api_token`), expiring after API_TOKEN_TTL_DAYS.",
        }
