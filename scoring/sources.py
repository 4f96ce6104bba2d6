"""Where family cards come from: the ``FamilyCardSource`` interface and its HTTP client.

``get_card_source().fetch(iin)`` returns a :class:`FetchedCard` (parsed once: the validated
:class:`scoring.card.Card`, the document as received and its SHA-256) or raises one of:

* :class:`CardNotFound` — the service answered 404: the person has no family card. Not retried.
* :class:`CardServiceUnavailable` — timeouts, connection errors, 5xx or 429 after the bounded
  retries, or the circuit breaker is open. Carries ``retry_after`` (seconds, a hint).
* :class:`CardMalformed` — the body is not JSON or is not a valid ``family-card/1`` document
  (or does not contain the person asked about). Carries ``problems``. Not retried.
* :class:`CardRequestRejected` — the service refused the request (another 4xx), or the ИИН is not
  a valid ИИН. Not retried.

Messages are for people and never contain an ИИН, a name or an income; logs carry at most
:func:`iin_ref` (a short keyed hash of the ИИН, ``schools.iinkey``).

Settings: ``FAMILY_CARD_URL`` ("" → this site's simulator, ``PORTAL_BASE_URL + /familycard-sim``),
``FAMILY_CARD_CONNECT_TIMEOUT``, ``FAMILY_CARD_READ_TIMEOUT``, ``FAMILY_CARD_ATTEMPTS``,
``REDIS_URL``; optional (defaults here): ``FAMILY_CARD_BACKOFF_BASE`` (0.5 s),
``FAMILY_CARD_BACKOFF_MAX`` (4 s), ``FAMILY_CARD_DEADLINE`` (the whole fetch, every attempt
and a slowly trickling body included: 20 s), ``FAMILY_CARD_BREAKER_FAILURES`` (5: the fewest
failures in the window that may open the breaker), ``FAMILY_CARD_BREAKER_RATE`` (0.5),
``FAMILY_CARD_BREAKER_WINDOW`` (30 s), ``FAMILY_CARD_BREAKER_PROBES`` (3 half-open probes),
``FAMILY_CARD_BREAKER_COOLDOWN`` (30 s), ``FAMILY_CARD_REDIS_PREFIX`` ("komek:familycard:").

When a half-open breaker closes (the service answers again) :data:`card_service_recovered` is
sent; the aid-request tasks re-queue the requests held back while it was down.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import ssl
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import django.dispatch
import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from schools.identifiers import is_valid_iin
from schools.iinkey import iin_ref
from scoring.card import Card, CardError, ParsedCard, Problem, parse_card_document
from scoring.circuit import CircuitBreaker, CircuitOpen, redis_client
from scoring.jsondoc import MAX_DOCUMENT_BYTES, JSONDocumentError, load_json_document

__all__ = [
    "CardMalformed",
    "CardNotFound",
    "CardRequestRejected",
    "CardServiceUnavailable",
    "CardSourceError",
    "FamilyCardSource",
    "FetchedCard",
    "HttpFamilyCardSource",
    "RedactIINFilter",
    "card_breaker",
    "card_service_recovered",
    "card_service_url",
    "get_card_source",
    "iin_ref",
    "install_log_redaction",
    "new_card_source",
    "validate_fetched",
]

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "FAMILY_CARD_BACKOFF_BASE": 0.5,
    "FAMILY_CARD_BACKOFF_MAX": 4.0,
    "FAMILY_CARD_DEADLINE": 20.0,
    "FAMILY_CARD_BREAKER_FAILURES": 5,
    "FAMILY_CARD_BREAKER_RATE": 0.5,
    "FAMILY_CARD_BREAKER_WINDOW": 30.0,
    "FAMILY_CARD_BREAKER_PROBES": 3,
    "FAMILY_CARD_BREAKER_COOLDOWN": 30.0,
    "FAMILY_CARD_REDIS_PREFIX": "komek:familycard:",
    "FAMILY_CARD_BATCH_SIZE": 50,
}
SIMULATOR_PATH = "/familycard-sim"
_MAX_BODY_BYTES = MAX_DOCUMENT_BYTES
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Sent (``sender=`` the source) when a half-open breaker closes: the service is back.
card_service_recovered = django.dispatch.Signal()
#: Sent after every fetch: ``seconds``, ``outcome`` (ok, not_found, malformed, rejected,
#: unavailable) and ``reason`` (why it was unavailable, else ""). For metrics; no personal data.
card_fetch_observed = django.dispatch.Signal()


def _setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS.get(name))


class RedactIINFilter(logging.Filter):
    """Replaces any 12-digit run in a log record (URLs with ``?iin=…``) by its hash reference.

    Attached to the ``httpx`` logger here and to ``django.server`` by the simulator app, whose
    request lines contain the query string.
    """

    _TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - never break logging
            return True
        if self._TWELVE_DIGITS.search(message):
            record.msg = self._TWELVE_DIGITS.sub(lambda m: iin_ref(m.group(0)), message)
            record.args = None
        return True


def install_log_redaction(logger_name: str) -> None:
    """Attach :class:`RedactIINFilter` to a logger (once)."""
    target = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactIINFilter) for f in target.filters):
        target.addFilter(RedactIINFilter())


install_log_redaction("httpx")


# --------------------------------------------------------------------------- errors


class CardSourceError(Exception):
    """Base of every card source error; ``code`` is stable, ``str()`` is for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other constructor arguments: rebuild from the state instead.
        return (_restore_error, (type(self), self.message, dict(self.__dict__)))


def _restore_error(cls: type[CardSourceError], message: str, state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class CardNotFound(CardSourceError):
    """The service has no family card for this person (HTTP 404)."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__(_("Карта семьи для этого человека не найдена"))


class CardServiceUnavailable(CardSourceError):
    """The service did not answer usefully (transient) or the circuit is open."""

    code = "unavailable"

    def __init__(self, reason: str, *, retry_after: float | None, attempts: int) -> None:
        self.reason = reason  # circuit_open | timeout | connection | http_5xx | http_429
        self.retry_after = retry_after
        self.attempts = attempts
        if reason == "circuit_open":
            text = _(
                "Сервис карт семьи недоступен: после серии ошибок обращения к нему "
                "временно приостановлены. Повторите примерно через %(seconds)d с."
            ) % {"seconds": max(1, round(retry_after or 0))}
        else:
            text = _(
                "Сервис карт семьи недоступен (%(reason)s), попыток: %(attempts)d. Повторите позже."
            ) % {"reason": _reason_label(reason), "attempts": attempts}
        super().__init__(text)


class CardMalformed(CardSourceError):
    """The service answered, but not with a valid family-card/1 document for this person."""

    code = "malformed"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        paths = [p.path or "(document)" for p in self.problems[:5]]
        more = len(self.problems) - len(paths)
        where = ", ".join(paths) + (f" … (+{more})" if more > 0 else "")
        text = _(
            "Сервис карт семьи вернул некорректную карту (ошибок: %(count)d; где: %(where)s)"
        ) % {"count": len(self.problems), "where": where}
        super().__init__(text)


class CardRequestRejected(CardSourceError):
    """The request itself was refused (invalid ИИН, or a 4xx other than 404/429)."""

    code = "rejected"

    def __init__(self, status: int | None) -> None:
        self.status = status
        if status is None:
            text = _("Некорректный ИИН: запрос карты семьи не отправлен")
        else:
            text = _("Сервис карт семьи отклонил запрос (HTTP %(status)d)") % {"status": status}
        super().__init__(text)


def _reason_label(reason: str) -> str:
    labels = {
        "timeout": _("нет ответа за отведённое время"),
        "connection": _("не удалось соединиться"),
        "http_5xx": _("внутренняя ошибка сервиса"),
        "http_429": _("слишком много запросов"),
    }
    return labels.get(reason, reason)


# --------------------------------------------------------------------------- interface


@dataclass(frozen=True)
class FetchedCard:
    """A validated card as received, parsed once: ``parsed`` (card, decoded document with exact
    numbers, SHA-256) is what :func:`scoring.services.assessment_create` takes (``card=``)."""

    parsed: ParsedCard
    source: str
    attempts: int = 1

    @property
    def card(self) -> Card:
        return self.parsed.card

    @property
    def raw(self) -> Any:
        """The decoded document (the one to freeze)."""
        return self.parsed.document

    @property
    def sha256(self) -> str:
        return self.parsed.sha256


class FamilyCardSource(ABC):
    """Anything that can fetch the family card of a person by ИИН."""

    name: str = "source"

    @abstractmethod
    def fetch(self, iin: str) -> FetchedCard:
        """The person's family card, or one of the :class:`CardSourceError` subclasses."""

    def fetch_many(self, iins: Sequence[str]) -> list[FetchedCard | CardSourceError]:
        """The cards of several people, in order: each a :class:`FetchedCard` or the
        :class:`CardSourceError` that :meth:`fetch` would raise for it. One at a time here;
        once the service is unavailable the rest are not asked (the same error)."""
        out: list[FetchedCard | CardSourceError] = []
        down: CardServiceUnavailable | None = None
        for iin in iins:
            if down is not None:
                out.append(down)
                continue
            try:
                out.append(self.fetch(iin))
            except CardServiceUnavailable as exc:
                down = exc
                out.append(exc)
            except CardSourceError as exc:
                out.append(exc)
        return out

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (connections)."""

    def __enter__(self) -> FamilyCardSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch_cards(source: Any, iins: Sequence[str]) -> list[FetchedCard | CardSourceError]:
    """``source.fetch_many(iins)``; for a source with only ``fetch()`` (any object with the
    interface's one required method), one card at a time as the base class does."""
    method = getattr(source, "fetch_many", None)
    if method is not None:
        return method(iins)
    return FamilyCardSource.fetch_many(source, iins)


def validate_fetched(doc: Any, iin: str, *, source: str, attempts: int = 1) -> FetchedCard:
    """Parse ``doc`` (a decoded document or the body's JSON text) once with
    :func:`scoring.card.parse_card_document` and check that ``iin`` is a member."""
    try:
        parsed = parse_card_document(doc)
    except CardError as exc:
        raise CardMalformed(exc.problems) from None
    if not any(m.iin == iin for m in parsed.card.members):
        raise CardMalformed(
            [
                Problem(
                    "members",
                    "members.person_missing",
                    gettext_lazy("Запрошенный человек не входит в состав семьи."),
                )
            ]
        )
    return FetchedCard(parsed=parsed, source=source, attempts=attempts)


# --------------------------------------------------------------------------- HTTP client


class _NoBatchEndpoint(Exception):
    """The service has no batch endpoint: ask one card at a time."""


_BATCH_MISMATCH = Problem(
    "cards", "batch.mismatch", gettext_lazy("Ответ сервиса не соответствует запросу.")
)


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after_header(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class HttpFamilyCardSource(FamilyCardSource):
    """Client of the family card service: ``GET {base_url}/v1/cards?iin=<ИИН>``."""

    name = "http"

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        attempts: int,
        breaker: CircuitBreaker,
        backoff_base: float = 0.5,
        backoff_max: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        api_key: str = "",
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        keep_alive: bool = False,
        batch_size: int = 50,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self.attempts = max(1, attempts)
        self.breaker = breaker
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._transport = transport
        self._client: httpx.Client | None = None
        # The whole fetch (every attempt, backoffs and a trickling body) within this many s.
        self.deadline = float(deadline) if deadline else None
        self._clock = clock
        self._expires: float | None = None
        # Shared per thread by get_card_source(): close() keeps the kept-alive connections.
        self.keep_alive = keep_alive
        # fetch_many(): at most this many ИИНs per POST v1/cards/batch (0: one GET each).
        self.batch_size = max(0, int(batch_size))
        self._no_batch = False

    # -- public --------------------------------------------------------------------------

    def fetch(self, iin: str) -> FetchedCard:
        started = time.perf_counter()
        outcome, reason = "ok", ""
        try:
            return self._fetch(iin)
        except CardServiceUnavailable as exc:
            outcome, reason = "unavailable", exc.reason
            raise
        except CardSourceError as exc:
            outcome = exc.code
            raise
        finally:
            if card_fetch_observed.receivers:
                card_fetch_observed.send(
                    sender=type(self),
                    seconds=time.perf_counter() - started,
                    outcome=outcome,
                    reason=reason,
                )

    def _fetch(self, iin: str) -> FetchedCard:
        if not is_valid_iin(iin):
            raise CardRequestRejected(None)
        doc, attempt = self._attempts(lambda: self._get(iin), iin_ref(iin))
        return validate_fetched(doc, iin, source=self.base_url, attempts=attempt)

    def _attempts(self, call: Callable[[], Any], what: str) -> tuple[Any, int]:
        """``call()`` through the breaker, retried with backoff on transient failures within
        the attempts and the deadline: (its result, the attempt that got it). Raises
        :class:`CardServiceUnavailable` when none succeeded, or the service's own refusal
        (a :class:`CardSourceError`: the service answered, so it counts as alive)."""
        last: _Transient | None = None
        self._expires = self._clock() + self.deadline if self.deadline else None
        for attempt in range(1, self.attempts + 1):
            if attempt > 1 and self._remaining() <= 0:
                break
            try:
                self.breaker.before_call()
            except CircuitOpen as exc:
                logger.info("family card %s: circuit open, not calling", what)
                raise CardServiceUnavailable(
                    "circuit_open", retry_after=exc.retry_after, attempts=attempt - 1
                ) from None
            try:
                result = call()
            except _Transient as exc:
                self.breaker.record_failure()
                last = exc
                logger.warning(
                    "family card %s: attempt %d/%d failed (%s)",
                    what,
                    attempt,
                    self.attempts,
                    exc.reason,
                )
                if attempt < self.attempts:
                    pause = self._backoff(attempt, exc.retry_after)
                    if pause >= self._remaining():
                        break
                    self._sleep(pause)
                continue
            except CardSourceError:
                self._succeeded()  # the service answered: it is alive
                raise
            self._succeeded()
            return result, attempt
        assert last is not None
        raise CardServiceUnavailable(
            last.reason, retry_after=self._retry_hint(last), attempts=attempt
        )

    def fetch_many(self, iins: Sequence[str]) -> list[FetchedCard | CardSourceError]:
        """Several cards in as few calls as the service allows: ``POST {base}/v1/cards/batch``
        with up to :attr:`batch_size` ИИНs each (retried, within the deadline and through the
        breaker, as one fetch). A service without the batch endpoint (404/405/501 on it) is
        asked one card at a time from then on."""
        if len(iins) <= 1 or not self.batch_size or self._no_batch:
            return super().fetch_many(iins)
        out: list[FetchedCard | CardSourceError] = []
        for start in range(0, len(iins), self.batch_size):
            chunk = list(iins[start : start + self.batch_size])
            if out and isinstance(out[-1], CardServiceUnavailable):
                out += [out[-1]] * len(chunk)
                continue
            out += self._fetch_chunk(chunk)
        return out

    def _fetch_chunk(self, iins: list[str]) -> list[FetchedCard | CardSourceError]:
        started = time.perf_counter()
        outcome, reason = "ok", ""
        try:
            return self._batch(iins)
        except CardServiceUnavailable as exc:
            outcome, reason = "unavailable", exc.reason
            return [exc] * len(iins)
        except _NoBatchEndpoint:
            self._no_batch = True
            return super().fetch_many(iins)
        except CardSourceError as exc:  # the call itself was refused (401, 400, 413, …)
            outcome = exc.code
            return [exc] * len(iins)
        finally:
            if card_fetch_observed.receivers:
                card_fetch_observed.send(
                    sender=type(self),
                    seconds=time.perf_counter() - started,
                    outcome=outcome,
                    reason=reason,
                )

    def _batch(self, iins: list[str]) -> list[FetchedCard | CardSourceError]:
        results: dict[int, FetchedCard | CardSourceError] = {}
        asked = []
        for k, iin in enumerate(iins):
            if is_valid_iin(iin):
                asked.append(k)
            else:
                results[k] = CardRequestRejected(None)
        if asked:
            items, attempt = self._attempts(
                lambda: self._post_batch([iins[k] for k in asked]), f"batch of {len(asked)}"
            )
            for k, item in zip(asked, items, strict=True):
                results[k] = self._batch_item(iins[k], item, attempt)
        return [results[k] for k in range(len(iins))]

    def _batch_item(self, iin: str, item: Any, attempt: int) -> FetchedCard | CardSourceError:
        status = item.get("status") if isinstance(item, dict) else None
        if not isinstance(item, dict) or item.get("iin") != iin:
            return CardMalformed([_BATCH_MISMATCH])
        if status == 200:
            try:
                return validate_fetched(
                    item.get("card"), iin, source=self.base_url, attempts=attempt
                )
            except CardSourceError as exc:
                return exc
        if status == 404:
            return CardNotFound()
        if status in _TRANSIENT_STATUSES or (isinstance(status, int) and status >= 500):
            return CardServiceUnavailable("http_5xx", retry_after=None, attempts=attempt)
        return CardRequestRejected(status if isinstance(status, int) else None)

    def _post_batch(self, iins: list[str]) -> list[Any]:
        """One batch exchange → the answer's items (one per ИИН, in order)."""
        url = f"{self.base_url}/v1/cards/batch"
        try:
            with self.client.stream(
                "POST", url, json={"iins": iins}, timeout=self._attempt_timeout()
            ) as response:
                status = response.status_code
                if status in (404, 405, 501):
                    raise _NoBatchEndpoint()
                if status in _TRANSIENT_STATUSES or status >= 500:
                    reason = "http_429" if status == 429 else "http_5xx"
                    raise _Transient(reason, _retry_after_header(response))
                if status != 200:
                    raise CardRequestRejected(status)
                body = self._read_body(response, self._remaining, limit=_MAX_BODY_BYTES * len(iins))
        except httpx.TimeoutException:
            raise _Transient("timeout") from None
        except httpx.TransportError:
            raise _Transient("connection") from None
        except httpx.DecodingError:
            raise _Transient("connection") from None
        try:
            doc = load_json_document(body, max_bytes=None)
        except JSONDocumentError:
            raise _Transient("connection") from None  # a cut-off or garbled answer
        items = doc.get("cards") if isinstance(doc, dict) else None
        if not isinstance(items, list) or len(items) != len(iins):
            raise _Transient("connection")
        return items

    def probe(self) -> tuple[bool, str]:
        """Is the card endpoint answering? ``GET {base}/v1/cards`` without an ИИН: a 4xx
        (the missing parameter) means alive, a 5xx/429/timeout/no connection means down. No
        person is asked about. Not guarded by the breaker (see :meth:`probe_through_breaker`).
        """
        try:
            response = self.client.get(f"{self.base_url}/v1/cards")
        except httpx.TimeoutException:
            return False, "timeout"
        except httpx.TransportError:
            return False, "connection"
        status = response.status_code
        if status in (401, 403):
            return False, f"http_{status}"
        if status in _TRANSIENT_STATUSES or status >= 500:
            return False, "http_429" if status == 429 else "http_5xx"
        return True, "ok"

    def probe_through_breaker(self) -> bool:
        """A probe that counts as a half-open trial: True when the service answers (and the
        breaker lets a call through)."""
        try:
            self.breaker.before_call()
        except CircuitOpen:
            return False
        ok, _detail = self.probe()
        if ok:
            self._succeeded()
        else:
            self.breaker.record_failure()
        return ok

    def close(self) -> None:
        if self.keep_alive:
            return
        self.close_connections()

    def close_connections(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- internals -----------------------------------------------------------------------

    def _remaining(self) -> float:
        if self._expires is None:
            return float("inf")
        return self._expires - self._clock()

    def _attempt_timeout(self) -> httpx.Timeout:
        left = self._remaining()
        if left == float("inf"):
            return self.timeout
        left = max(left, 0.05)
        t = self.timeout
        return httpx.Timeout(
            connect=min(t.connect or left, left),
            read=min(t.read or left, left),
            write=min(t.write or left, left),
            pool=min(t.pool or left, left),
        )

    def _succeeded(self) -> None:
        if self.breaker.record_success():
            try:
                card_service_recovered.send(sender=type(self), source=self)
            except Exception:  # noqa: BLE001 - a receiver must never fail a fetch
                logger.exception("card service recovered: a receiver failed")

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                verify=shared_ssl_context(),
                timeout=self.timeout,
                headers={
                    "Accept": "application/json",
                    "User-Agent": "komek-portal/1",
                    # The service's shared secret (the simulator demands one).
                    **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}),
                },
                follow_redirects=False,
                transport=self._transport,
            )
        return self._client

    def _get(self, iin: str) -> bytes:
        """One HTTP exchange → the body, or raise _Transient / CardSourceError."""
        url = f"{self.base_url}/v1/cards"
        try:
            with self.client.stream(
                "GET", url, params={"iin": iin}, timeout=self._attempt_timeout()
            ) as response:
                status = response.status_code
                if status in _TRANSIENT_STATUSES or status >= 500:
                    reason = "http_429" if status == 429 else "http_5xx"
                    raise _Transient(reason, _retry_after_header(response))
                if status == 404:
                    raise CardNotFound()
                if status != 200:
                    raise CardRequestRejected(status)
                body = self._read_body(response, self._remaining)
        except httpx.TimeoutException:
            raise _Transient("timeout") from None
        except httpx.TransportError:  # connect errors, resets, protocol errors
            raise _Transient("connection") from None
        except httpx.DecodingError:  # a body that cannot be decoded (Content-Encoding)
            raise CardMalformed(
                [Problem("", "body.undecodable", gettext_lazy("Ответ сервиса не читается."))]
            ) from None
        return body  # decoded and validated once, by validate_fetched

    @staticmethod
    def _read_body(
        response: httpx.Response,
        remaining: Callable[[], float] = lambda: float("inf"),
        limit: int = _MAX_BODY_BYTES,
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if remaining() <= 0:  # a body trickling in: the whole fetch is out of time
                raise _Transient("timeout")
            size += len(chunk)
            if size > limit:
                raise CardMalformed(
                    [Problem("", "body.too_large", gettext_lazy("Ответ сервиса слишком большой."))]
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; a server's Retry-After is a floor (capped)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    def _retry_hint(self, last: _Transient) -> float:
        if last.retry_after is not None:
            return last.retry_after
        return float(_setting("FAMILY_CARD_BREAKER_COOLDOWN"))


# --------------------------------------------------------------------------- factory


def card_service_url() -> str:
    """``FAMILY_CARD_URL``, or this site's simulator when it is empty."""
    url = (settings.FAMILY_CARD_URL or "").strip()
    if not url:
        if not getattr(settings, "FAMILY_CARD_SIM_ENABLED", False):
            # Without this, every person would silently "have no card" (404 from the portal).
            raise ImproperlyConfigured(
                "FAMILY_CARD_URL is empty and the simulator is disabled (FAMILY_CARD_SIM_ENABLED)"
            )
        url = settings.PORTAL_BASE_URL.rstrip("/") + SIMULATOR_PATH
    return url.rstrip("/")


_SSL_CONTEXT: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~20 ms of CPU;
    ``httpx.Client()`` without ``verify=`` builds a new one each time)."""
    global _SSL_CONTEXT  # noqa: PLW0603
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = ssl.create_default_context()
    return _SSL_CONTEXT


def card_breaker() -> CircuitBreaker:
    """The breaker shared by every process that talks to the same card service."""
    url = card_service_url()
    name = "familycard:" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    return CircuitBreaker(
        name,
        client=redis_client(settings.REDIS_URL),
        failure_threshold=int(_setting("FAMILY_CARD_BREAKER_FAILURES")),
        failure_rate=float(_setting("FAMILY_CARD_BREAKER_RATE")),
        window_seconds=float(_setting("FAMILY_CARD_BREAKER_WINDOW")),
        half_open_probes=int(_setting("FAMILY_CARD_BREAKER_PROBES")),
        cooldown_seconds=float(_setting("FAMILY_CARD_BREAKER_COOLDOWN")),
        probe_timeout_seconds=float(settings.FAMILY_CARD_CONNECT_TIMEOUT)
        + float(settings.FAMILY_CARD_READ_TIMEOUT)
        + 1.0,
        key_prefix=str(_setting("FAMILY_CARD_REDIS_PREFIX")) + "circuit:",
    )


_per_thread = threading.local()


def _source_config() -> tuple[Any, ...]:
    names = (
        "FAMILY_CARD_URL", "FAMILY_CARD_CONNECT_TIMEOUT", "FAMILY_CARD_READ_TIMEOUT",
        "FAMILY_CARD_ATTEMPTS", "FAMILY_CARD_BACKOFF_BASE", "FAMILY_CARD_BACKOFF_MAX",
        "FAMILY_CARD_DEADLINE", "FAMILY_CARD_BREAKER_FAILURES", "FAMILY_CARD_BREAKER_RATE",
        "FAMILY_CARD_BREAKER_WINDOW", "FAMILY_CARD_BREAKER_PROBES",
        "FAMILY_CARD_BREAKER_COOLDOWN", "FAMILY_CARD_REDIS_PREFIX", "FAMILY_CARD_API_KEY",
        "FAMILY_CARD_BATCH_SIZE",
        "PORTAL_BASE_URL", "REDIS_URL",
    )  # fmt: skip
    return tuple(_setting(n) for n in names)


def get_card_source() -> FamilyCardSource:
    """The configured card source (reads settings at call time): one per thread, reused from
    task to task so its connections to the service stay alive (``close()`` keeps them); a
    new one when the settings change."""
    config = _source_config()
    cached = getattr(_per_thread, "source", None)
    if cached is not None and cached[0] == config:
        return cached[1]
    if cached is not None:
        cached[1].close_connections()
    source = new_card_source(keep_alive=True)
    _per_thread.source = (config, source)
    return source


def new_card_source(*, keep_alive: bool = False) -> HttpFamilyCardSource:
    """A card source of its own (closing it closes its connections)."""
    return HttpFamilyCardSource(
        card_service_url(),
        connect_timeout=float(settings.FAMILY_CARD_CONNECT_TIMEOUT),
        read_timeout=float(settings.FAMILY_CARD_READ_TIMEOUT),
        attempts=int(settings.FAMILY_CARD_ATTEMPTS),
        breaker=card_breaker(),
        backoff_base=float(_setting("FAMILY_CARD_BACKOFF_BASE")),
        backoff_max=float(_setting("FAMILY_CARD_BACKOFF_MAX")),
        api_key=str(getattr(settings, "FAMILY_CARD_API_KEY", "") or ""),
        deadline=float(_setting("FAMILY_CARD_DEADLINE")),
        keep_alive=keep_alive,
        batch_size=int(_setting("FAMILY_CARD_BATCH_SIZE")),
    )
