"""Strict, exact JSON for the documents the portal trusts: family cards and rule sets.

* :func:`load_json_document` decodes JSON text **exactly**: a number written with a fraction
  or an exponent becomes a :class:`decimal.Decimal` holding the digits as written (never a
  binary float), an integer stays an ``int``. It refuses NaN/Infinity, duplicate keys,
  documents larger than :data:`MAX_DOCUMENT_BYTES` and nesting deeper than :data:`MAX_DEPTH`
  with a :class:`JSONDocumentError` (a ``json.JSONDecodeError``, hence a ``ValueError``) that
  has a stable ``code`` and a translated ``reason`` — never a ``RecursionError``.
* :func:`canonical_json` is the form a card's SHA-256 is computed over: sorted keys, no
  spaces, UTF-8. A non-integer number is written as Python writes the shortest float with the
  same digits (``54.1``, ``1000.0``, ``1e-05``, ``1e+30``) — so every document whose numbers a
  float could hold hashes byte for byte as before, while numbers a float cannot hold
  (``1e-400``, ``0.30000000000000000001``) keep all their digits. A zero is ``0.0`` (no
  negative zero: PostgreSQL's ``numeric`` has none). Documents without binary floats are
  written by ``orjson``, the others by ``json.dumps``; both give the same bytes.
* :class:`ExactJSONEncoder` / :class:`ExactJSONDecoder` store such documents in a
  ``JSONField`` without losing a digit (PostgreSQL ``jsonb`` keeps numbers as ``numeric``).
* :func:`schema_validator` builds the explaining JSON Schema validator with JSON Schema's own
  rules where Python's differ: ``pattern`` is an ECMA-262 regular expression (``$`` is the end of
  the text, not "before a final newline"; ``\\d`` is ``[0-9]``), and ``integer`` includes
  ``5.0`` and ``1E+3`` written as decimals.

Pure: no ORM, no settings needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, Final

import orjson
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator, ValidationError, validators

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_EXPONENT",
    "MAX_SIGNIFICANT_DIGITS",
    "ExactJSONDecoder",
    "ExactJSONEncoder",
    "JSONDocumentError",
    "canonical_json",
    "ecma_search",
    "load_json_document",
    "number_in_range",
    "number_text",
    "quick_load_unchecked_keys",
    "read_document_bytes",
    "schema_validator",
    "storage_json",
]

#: Largest document accepted, in bytes of UTF-8 (a family card of 30 members is ~12 KB).
MAX_DOCUMENT_BYTES: Final = 2 * 1024 * 1024
#: Deepest nesting of arrays and objects accepted (a family card needs 4).
MAX_DEPTH: Final = 32
#: Numbers: at most this many significant digits, and |exponent| (as in 1.5E+3) at most this.
MAX_SIGNIFICANT_DIGITS: Final = 1000
MAX_EXPONENT: Final = 1000
_INT_LIMIT: Final = 10 ** (MAX_EXPONENT + 1)


# --------------------------------------------------------------------------- errors


class JSONDocumentError(json.JSONDecodeError):
    """A JSON document was refused. ``code`` is stable: ``json.too_large``, ``json.too_deep``,
    or ``json.invalid`` (syntax, NaN/Infinity, a repeated key, an encoding that is not UTF-8,
    a lone surrogate, an integer of more than 4300 digits); ``reason`` is a lazily translated
    sentence saying which; ``str()`` is that sentence in the language active when raised."""

    def __init__(self, code: str, reason: Any, doc: str = "", pos: int = 0) -> None:
        text = _safe_str(reason)
        ValueError.__init__(self, text)
        self.msg = text
        self.doc = doc
        self.pos = pos
        self.lineno = doc.count("\n", 0, pos) + 1
        self.colno = pos - doc.rfind("\n", 0, pos)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return self.msg

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.msg, "", 0))


def _safe_str(reason: Any) -> str:
    try:
        return str(reason)
    except Exception:  # noqa: BLE001 - settings not configured: lazy text cannot render
        return repr(reason)


def _short(text: str, limit: int = 40) -> str:
    """A key or value quoted safely for a message: escaped, at most ``limit`` characters."""
    quoted = json.dumps(text[:limit])
    return quoted if len(text) <= limit else quoted[:-1] + '…"'


# --------------------------------------------------------------------------- decoding


def _reject_constant(name: str) -> Any:
    raise JSONDocumentError(
        "json.invalid",
        format_lazy(_("Значение {name} недопустимо в JSON."), name=name),
    )


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise JSONDocumentError(
                    "json.invalid",
                    format_lazy(_("Ключ {key} повторяется в одном объекте."), key=_short(key)),
                )
            seen.add(key)
    return out


_DECODER: Final = json.JSONDecoder(
    parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_pairs
)


def _too_large(limit: int) -> JSONDocumentError:
    return JSONDocumentError(
        "json.too_large",
        format_lazy(
            _("Документ слишком большой: не более {limit} КБ."), limit=max(1, limit // 1024)
        ),
    )


def _too_deep(limit: int) -> JSONDocumentError:
    return JSONDocumentError(
        "json.too_deep",
        format_lazy(_("Слишком глубокая вложенность: не более {limit} уровней."), limit=limit),
    )


def _depth(value: Any, limit: int) -> bool:
    """True when ``value`` nests containers at most ``limit`` deep (iterative, no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item if isinstance(v, (dict, list)))
    return True


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def load_json_document(
    text: str | bytes | bytearray,
    *,
    max_bytes: int | None = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Strict, exact JSON (see the module docstring). Raises :class:`JSONDocumentError`.

    ``max_bytes=None`` lifts the size limit (for documents read back from the database).
    """
    if isinstance(text, (bytes, bytearray)):
        if max_bytes is not None and len(text) > max_bytes:
            raise _too_large(max_bytes)
        try:
            text = bytes(text).decode(json.detect_encoding(text))
        except (UnicodeDecodeError, LookupError):
            raise JSONDocumentError(
                "json.invalid", _("Документ не в кодировке UTF-8 (или UTF-16/32).")
            ) from None
    elif not isinstance(text, str):
        raise TypeError(f"JSON text must be str or bytes, not {type(text).__name__}")
    else:
        try:
            size = len(text.encode("utf-8"))  # ~1 µs for a card; also finds raw surrogates
        except UnicodeEncodeError:
            raise _lone_surrogate() from None
        if max_bytes is not None and size > max_bytes:
            raise _too_large(max_bytes)
    if text.startswith("\ufeff"):
        raise JSONDocumentError(
            "json.invalid", _("Документ начинается с метки порядка байтов (BOM).")
        )
    # Fewer brackets than the limit cannot nest deeper: the common case costs two counts.
    nested = text.count("[") + text.count("{") > max_depth
    try:
        doc = _DECODER.decode(text)
    except JSONDocumentError:
        raise
    except json.JSONDecodeError as exc:
        raise JSONDocumentError(
            "json.invalid",
            format_lazy(
                _("Некорректный JSON: {error} (строка {line}, столбец {column})."),
                error=exc.msg,
                line=exc.lineno,
                column=exc.colno,
            ),
            exc.doc,
            exc.pos,
        ) from None
    except RecursionError:
        raise _too_deep(max_depth) from None
    except ValueError:  # an integer of more than 4300 digits
        raise JSONDocumentError("json.invalid", _("Число в документе слишком длинное.")) from None
    if nested and not _depth(doc, max_depth):
        raise _too_deep(max_depth)
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(doc):
        raise _lone_surrogate()
    return doc


_QUICK_DECODER: Final = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def quick_load_unchecked_keys(text: str | bytes | bytearray) -> tuple[Any, str] | None:
    """The document and its text, decoded like :func:`load_json_document` but **without the
    duplicate-key check** (the slowest part of decoding), or None at any doubt (too large, too
    deep, not clean UTF-8, surrogates, invalid JSON): then use :func:`load_json_document`.

    Only for a caller that proves the absence of duplicate keys another way, as the card
    parser does for a valid card (the number of ``:`` in the text equals the number of keys).
    """
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_DOCUMENT_BYTES:
            return None
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return None
    elif not isinstance(text, str) or len(text) * 4 > MAX_DOCUMENT_BYTES:
        return None
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None
    if (
        text.startswith("\ufeff")
        or text.count("[") + text.count("{") > MAX_DEPTH
        or _SURROGATE_ESCAPE.search(text)
    ):
        return None
    try:
        return _QUICK_DECODER.decode(text), text
    except (ValueError, RecursionError):
        return None


def _lone_surrogate() -> JSONDocumentError:
    return JSONDocumentError(
        "json.invalid",
        _("Документ содержит непарный суррогат UTF-16: это не текст Юникода."),
    )


def read_document_bytes(source: Any, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """Read a file path or a binary stream, at most ``limit + 1`` bytes (enough for
    :func:`load_json_document` to say "too large" without reading a huge file whole)."""
    if hasattr(source, "read"):
        return source.read(limit + 1)
    with open(source, "rb") as handle:
        return handle.read(limit + 1)


# --------------------------------------------------------------------------- numbers


def number_in_range(value: int | Decimal) -> bool:
    """Within the limits every exact computation here is quick for (see the constants)."""
    if type(value) is int:
        return -_INT_LIMIT < value < _INT_LIMIT
    if not value.is_finite():
        return False
    if not value:
        return True
    _sign, digits, _exponent = value.as_tuple()
    return len(digits) <= MAX_SIGNIFICANT_DIGITS and -MAX_EXPONENT <= value.adjusted() <= (
        MAX_EXPONENT
    )


def _digits(value: Decimal) -> tuple[str, int]:
    """Significant digits (no trailing zeros) and the position of the decimal point."""
    _sign, digit_tuple, exponent = value.as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    if not digits:
        return "0", 1
    assert isinstance(exponent, int)
    return digits, len(digit_tuple) + exponent


def _short_text(value: Decimal) -> str:
    """:func:`number_text`, quicker for the usual numbers: when the float nearest ``value``
    has exactly its value in its shortest form, that form (``repr``) is the canonical text."""
    if value:
        shortest = repr(float(value))
        if Decimal(shortest) == value:
            return shortest
    return number_text(value)


def number_text(value: Decimal) -> str:
    """The canonical text of a non-integer-literal number: Python's float ``repr`` layout of the
    exact value (``54.1``, ``1000.0``, ``1e-05``, ``1e+30``, ``1e-400``); zero is ``0.0``.

    For every value a float holds exactly in its shortest form this *is* ``repr(float(x))``.
    Raises ``ValueError`` for NaN and infinities.
    """
    if not value.is_finite():
        raise ValueError(f"Out of range float values are not JSON compliant: {value}")
    digits, point = _digits(value)
    if digits == "0":
        return "0.0"
    sign = "-" if value.is_signed() else ""
    if -4 < point <= 16:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exponent = point - 1
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _positional_text(value: Decimal) -> str:
    """The exact value written without an exponent and with a fraction (``1000.0``,
    ``0.00001``): PostgreSQL keeps such a number's scale, so it reads back as a non-integer."""
    if not number_in_range(value):  # never expand an absurd exponent; validation refuses it
        return number_text(value)
    digits, point = _digits(value)
    if digits == "0":
        return "0.0"
    sign = "-" if value.is_signed() else ""
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}.0"
    return f"{sign}{digits[:point]}.{digits[point:]}"


class _NeedsExact(Exception):
    pass


def _fast_default(value: Any) -> Any:
    if type(value) is Decimal:
        text = _short_text(value)
        as_float = float(text)
        if repr(as_float) == text:
            return as_float
        raise _NeedsExact
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# --------------------------------------------------------------------------- encoding


def _encode(
    value: Any,
    out: list[str],
    number: Callable[[Decimal], str],
    floatstr: Callable[[float], str],
    quote: Callable[[str], str],
    level: int = 0,
) -> None:
    """A small JSON writer with exact numbers: sorted keys, no spaces. In-memory structures
    nested deeper than ``MAX_DEPTH × 4`` are refused (``ValueError``), never a RecursionError."""
    if level > _MAX_WRITE_DEPTH:
        raise ValueError("document nested too deeply")
    if isinstance(value, str):
        out.append(quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (_INF, -_INF):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        out.append(floatstr(value))
    elif isinstance(value, Decimal):
        out.append(number(value))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, not {type(key).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(value)):
            if i:
                out.append(",")
            out.append(quote(key))
            out.append(":")
            _encode(value[key], out, number, floatstr, quote, level + 1)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, element in enumerate(value):
            if i:
                out.append(",")
            _encode(element, out, number, floatstr, quote, level + 1)
        out.append("]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_MAX_WRITE_DEPTH: Final = MAX_DEPTH * 4
_INF: Final = float("inf")


def _write(value: Any, *, storage: bool, ensure_ascii: bool) -> str:
    out: list[str] = []
    quote = encode_basestring_ascii if ensure_ascii else encode_basestring
    if storage:
        _encode(value, out, _positional_text, _positional_float, quote)
    else:  # canonical: floats exactly as json.dumps writes them (repr)
        _encode(value, out, number_text, float.__repr__, quote)
    return "".join(out)


def _positional_float(value: float) -> str:
    return _positional_text(Decimal(repr(value)))


def _fragment(value: Any) -> Any:
    if type(value) is Decimal:
        return orjson.Fragment(_short_text(value).encode("ascii"))
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def canonical_json(doc: Any, *, floats: bool = True) -> bytes:
    """Canonical UTF-8 JSON: sorted keys, no spaces, non-ASCII kept, numbers exact (see the
    module docstring), NaN/Infinity refused (``ValueError``).

    ``floats=False`` promises there is no binary ``float`` in ``doc`` (a document decoded by
    :func:`load_json_document` has none): then the bytes come from ``orjson``, which writes
    strings, integers and the structure exactly as ``json.dumps`` does (a property test
    holds them to it), about five times faster.
    """
    if not floats:
        try:
            return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS, default=_fragment)
        except (TypeError, orjson.JSONEncodeError):
            pass  # an integer beyond 64 bits, a lone surrogate, a non-str key: the exact writer
    try:
        text = json.dumps(
            doc,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_fast_default,
        )
    except _NeedsExact:
        text = _write(doc, storage=False, ensure_ascii=False)
    except RecursionError:
        raise ValueError("document nested too deeply") from None
    return text.encode("utf-8")


def storage_json(doc: Any, *, ensure_ascii: bool = False) -> str:
    """JSON text for a ``jsonb`` column that reads back with every digit and every
    integer/non-integer distinction (non-integers positional, with a fraction)."""
    return _write(doc, storage=True, ensure_ascii=ensure_ascii)


class ExactJSONEncoder(json.JSONEncoder):
    """``JSONField(encoder=…)``: writes :class:`~decimal.Decimal` (and floats) exactly."""

    def encode(self, o: Any) -> str:
        return storage_json(o, ensure_ascii=self.ensure_ascii)

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        return iter([self.encode(o)])


class ExactJSONDecoder(json.JSONDecoder):
    """``JSONField(decoder=…)``: non-integer numbers as :class:`~decimal.Decimal`, bounded
    nesting, no duplicate keys (form input through the same field gets the same checks)."""

    def decode(self, s: str, _w: Any = None) -> Any:
        return load_json_document(s, max_bytes=None)


# --------------------------------------------------------------------------- JSON Schema


@lru_cache(maxsize=256)
def _ecma(pattern: str) -> re.Pattern[str]:
    """Compile an ECMA-262 pattern (the JSON Schema dialect) with Python's ``re``.

    Outside character classes ``$`` becomes ``\\Z`` (end of the text: Python's ``$`` also
    matches before a final newline) and ``\\d`` becomes ``[0-9]`` (Python's matches every
    Unicode digit); inside classes ``\\d`` becomes ``0-9``.
    """
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "d":
                out.append("0-9" if in_class else "[0-9]")
            elif nxt == "D" and not in_class:
                out.append("[^0-9]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a literal ] first in the class
                out.append("\\]")
                i += 1
            continue
        elif ch == "$":
            out.append(r"\Z")
            i += 1
            continue
        out.append(ch)
        i += 1
    return re.compile("".join(out))


def ecma_search(pattern: str, text: str) -> bool:
    """Whether ``text`` matches the JSON Schema ``pattern`` (ECMA-262 semantics)."""
    return _ecma(pattern).search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield ValidationError(f"does not match {pattern!r}")


def _pattern_properties(validator: Any, properties: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        for key, value in instance.items():
            if ecma_search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in known and not any(ecma_search(p, key) for p in patterns)
    ]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        yield ValidationError(f"Additional properties are not allowed ({len(extras)} unexpected)")


def _is_integer(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    if isinstance(instance, float):
        return instance.is_integer()
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return False


def _is_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool):
        return False
    if isinstance(instance, Decimal):
        return instance.is_finite()
    return isinstance(instance, (int, float))


_TYPE_CHECKER: Final = Draft202012Validator.TYPE_CHECKER.redefine_many(
    {"integer": _is_integer, "number": _is_number}
)
_ExactValidator = validators.extend(
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
    type_checker=_TYPE_CHECKER,
)


def schema_validator(schema: Mapping[str, Any]) -> Any:
    """The explaining Draft 2020-12 validator (formats checked) with JSON Schema's semantics
    for patterns and integers (see the module docstring)."""
    return _ExactValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
