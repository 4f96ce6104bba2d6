"""The SMS gateway client over HTTP (``SMS_GATEWAY_URL``, ``SMS_GATEWAY_KEY``).

``POST {url}/v1/messages`` with ``{"to", "text", "sender"}``, ``Authorization: Bearer <key>``
and an ``Idempotency-Key`` header: the gateway answers 200/201/202 with ``{"id": …}`` and
delivers one message per key however often it is sent. Timeouts, connection errors, 429 and
5xx are transient (:class:`GatewayUnavailable`, retried by the task); other 4xx answers are
permanent (:class:`GatewayRejected`). The default URL is this site's simulator (``/sms-sim``).
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings


class GatewayError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class GatewayUnavailable(GatewayError):
    """Transient: try again later."""


class GatewayRejected(GatewayError):
    """Permanent: the gateway refused this message."""


def gateway_url() -> str:
    url = str(getattr(settings, "SMS_GATEWAY_URL", "") or "")
    return (url or settings.PORTAL_BASE_URL.rstrip("/") + "/sms-sim").rstrip("/")


class SmsGateway:
    def __init__(
        self,
        base_url: str | None = None,
        key: str | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or gateway_url()).rstrip("/")
        self.key = settings.SMS_GATEWAY_KEY if key is None else key
        timeout = float(settings.SMS_GATEWAY_TIMEOUT if timeout is None else timeout)
        from scoring.sources import shared_ssl_context

        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            transport=transport,
            verify=shared_ssl_context(),  # not a new TLS context (~20 ms) per message
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> SmsGateway:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        """Send one SMS; returns the gateway's message id."""
        try:
            response = self.client.post(
                f"{self.base_url}/v1/messages",
                json={"to": to, "text": text, "sender": settings.SMS_SENDER},
                headers={
                    "Authorization": f"Bearer {self.key}",
                    "Idempotency-Key": idempotency_key,
                },
            )
        except httpx.TimeoutException:
            raise GatewayUnavailable("timeout") from None
        except httpx.HTTPError:
            raise GatewayUnavailable("connection") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise GatewayUnavailable(f"http_{response.status_code}")
        if response.status_code not in (200, 201, 202):
            raise GatewayRejected(f"http_{response.status_code}")
        try:
            message_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise GatewayUnavailable("bad_response") from None
        return message_id[:100]
