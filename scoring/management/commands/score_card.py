"""Score family cards (``family-card/1`` files) from the command line.

    python manage.py score_card card.json more.json          # rule set in force today
    python manage.py score_card --rules KZ-2027.1 card.json  # any stored version, drafts too
    cat card.json | python manage.py score_card --json -     # one JSON object per card per line
    python manage.py score_card --save card.json             # also store the assessments
    python manage.py score_card --explain-changes card.json  # + what would change the category

The card's ``as_of`` year selects ПМ and МЗП. An invalid card (or one whose year has no ПМ/МЗП
in the rule set) gives an error line naming the field path and the reason; the other cards are
still scored, and the command exits non-zero at the end. Nothing is saved without ``--save``.

Human-readable output goes to stdout and errors to stderr; with ``--json`` every card, scored or
not, is one line on stdout (``{"file", "error", "errors"}`` for a failure). A scored card's line
always carries ``what_would_change`` (:meth:`scoring.counterfactual.Counterfactuals.to_dict`:
the exact smallest changes that would change the category, and the borderline flag); with
``--explain-changes`` also ``what_would_change_text``, the same in plain words in
``--language``. Without ``--json``, ``--explain-changes`` prints those words after the table.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from scoring import engine, selectors, services
from scoring.card import DocumentError, Problem, parse_card_document
from scoring.counterfactual import Counterfactuals, what_would_change
from scoring.counterfactual_text import describe
from scoring.criteria import CRITERIA, UNBOUNDED
from scoring.jsondoc import MAX_DOCUMENT_BYTES, read_document_bytes
from scoring.models import RuleSet
from scoring.ruleset import Comparison, CompiledRuleSet

LANGUAGES = ("ru", "kk", "en")
_OP_SIGNS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "is": "="}


def _read(path: str) -> bytes | str:
    if path == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is not None:
            return read_document_bytes(buffer)
        return sys.stdin.read(MAX_DOCUMENT_BYTES + 1)
    return read_document_bytes(Path(path))


def value_json(value: Any) -> Any:
    """A criterion value for JSON: Fractions as decimal strings (4 places), ``inf`` if unbounded."""
    if value is UNBOUNDED:
        return "inf"
    if isinstance(value, Fraction):
        return engine.decimal_text(value)
    return value


def _exact(value: Fraction | int) -> str:
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    for places in range(1, 41):
        if (f * 10**places).denominator == 1:
            return engine.decimal_text(f, places)
    return engine.decimal_text(f)


def _yes_no(value: bool) -> str:
    return _("да") if value else _("нет")


def _value_text(value: Any) -> str:
    if value is UNBOUNDED:
        return "∞"
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, Fraction):
        return engine.decimal_text(value)
    return str(value)


def _threshold_text(c: Comparison) -> str:
    if c.op is None:
        return _("иначе")
    t = c.threshold
    shown = _yes_no(t) if isinstance(t, bool) else _exact(t)  # type: ignore[arg-type]
    return f"{_OP_SIGNS.get(c.op, c.op)} {shown}"


def _effect_text(c: Comparison) -> str:
    if c.effect == "marker":
        what = _("маркер категории 6")
    elif c.effect == "band":
        what = _("категория %(n)d") % {"n": c.category}
    elif c.effect == "vulnerability":
        what = _("уязвимость +%(n)d") % {"n": c.points or 0}
    else:
        what = _("благосостояние −%(n)d") % {"n": c.points or 0}
    fired = _("сработало") if c.fired else _("нет")
    return f"{what}: {fired}"


class Command(BaseCommand):
    help = (
        "Score family-card/1 files with the rule set in force today (or --rules VERSION). "
        "PATH may be - for standard input. Nothing is saved unless --save is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="card file, or - for stdin")
        parser.add_argument(
            "--rules", metavar="VERSION", help="score with this rule set (any status)"
        )
        parser.add_argument("--language", choices=LANGUAGES, default="ru", help="output language")
        parser.add_argument("--json", action="store_true", help="one JSON object per card per line")
        parser.add_argument("--save", action="store_true", help="store the assessments")
        parser.add_argument(
            "--explain-changes",
            action="store_true",
            help="also say, in --language, the smallest changes that would change the category",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        language: str = options["language"]
        with translation.override(language):
            self._run(options, language)

    def _run(self, options: dict[str, Any], language: str) -> None:
        as_json: bool = options["json"]
        try:
            if options["rules"]:
                ruleset = selectors.ruleset_by_version(version=options["rules"])
            else:
                ruleset = selectors.ruleset_in_force()
            compiled = selectors.compiled_ruleset(ruleset)
        except RuleSet.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        except DocumentError as exc:
            raise CommandError(
                _("Набор правил %(version)s повреждён: %(error)s")
                % {"version": ruleset.version, "error": exc}
            ) from None

        paths: list[str] = options["paths"]
        failed = 0
        for position, path in enumerate(paths):
            try:
                data = _read(path)
            except OSError as exc:
                reason = _("Не удалось прочитать файл: %(error)s") % {
                    "error": exc.strerror or exc.__class__.__name__
                }
                self._error(path, [Problem("", "file.unreadable", reason)], as_json)
                failed += 1
                continue
            saved_id = None
            try:
                parsed = parse_card_document(data)
                if options["save"]:
                    saved = services.assessment_create(card=parsed, ruleset=ruleset)
                    result = engine.Assessment.from_dict(saved.trace)
                    saved_id = str(saved.public_id)
                else:
                    result = services.score_card_document(card=parsed, ruleset=ruleset)
                changes = what_would_change(parsed, compiled, result)
            except DocumentError as exc:  # CardError, MissingParameterError
                self._error(path, exc.problems, as_json)
                failed += 1
                continue
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
                reason = _("Внутренняя ошибка при оценке карты (%(kind)s).") % {
                    "kind": type(exc).__name__
                }
                self._error(path, [Problem("", "internal", reason)], as_json)
                failed += 1
                continue
            explain: bool = options["explain_changes"]
            if as_json:
                self._json_line(path, result, compiled, language, saved_id, changes, explain)
            else:
                if position:
                    self.stdout.write("")
                self._human(path, result, compiled, language, saved_id)
                if explain:
                    self._changes(changes, compiled, language)

        if failed:
            raise CommandError(
                _("Не удалось оценить карт: %(failed)d из %(total)d.")
                % {"failed": failed, "total": len(paths)}
            )

    # ---- output -------------------------------------------------------------------------------
    def _error(
        self, path: str, problems: tuple[Problem, ...] | list[Problem], as_json: bool
    ) -> None:
        document = _("(документ)")
        parts = [f"{p.path or document}: {p.reason}" for p in problems]
        if as_json:
            line = {
                "file": path,
                "error": "; ".join(parts),
                "errors": [p.as_dict() for p in problems],
            }
            self.stdout.write(json.dumps(line, ensure_ascii=False))
        else:
            for part in parts:
                self.stderr.write(
                    _("%(file)s: ошибка: %(problem)s") % {"file": path, "problem": part}
                )

    def _json_line(
        self,
        path: str,
        result: engine.Assessment,
        compiled: CompiledRuleSet,
        language: str,
        saved_id: str | None,
        changes: Counterfactuals,
        explain: bool,
    ) -> None:
        line: dict[str, Any] = {
            "file": path,
            "category": result.category,
            "category_label": compiled.category_label(result.category, language),
            "high_welfare": result.high_welfare,
            "markers": list(result.markers),
            "base_category": result.base_category,
            "vulnerability": {
                "points": result.vulnerability_points,
                "fired": list(result.vulnerability),
            },
            "wealth": {"points": result.wealth_points, "fired": list(result.wealth)},
            "net": result.net,
            "shift": result.shift,
            "rule_set": result.ruleset_version,
            "criteria": {code: value_json(v) for code, v in result.values_by_code().items()},
            "card_sha256": result.card_sha256,
        }
        line["what_would_change"] = changes.to_dict()
        if explain:
            line["what_would_change_text"] = describe(changes, compiled, language)
        if saved_id is not None:
            line["assessment"] = saved_id
        self.stdout.write(json.dumps(line, ensure_ascii=False))

    def _changes(self, changes: Counterfactuals, compiled: CompiledRuleSet, language: str) -> None:
        w = self.stdout.write
        w("")
        w(self.style.MIGRATE_HEADING(_("Что изменило бы категорию:")))
        for line in describe(changes, compiled, language):
            w(f"  • {line}")

    def _human(
        self,
        path: str,
        result: engine.Assessment,
        compiled: CompiledRuleSet,
        language: str,
        saved_id: str | None,
    ) -> None:
        w = self.stdout.write
        w(self.style.MIGRATE_HEADING(path))
        w(_("Набор правил: %(version)s") % {"version": result.ruleset_version})
        w(
            _("Категория: %(category)d — %(label)s")
            % {
                "category": result.category,
                "label": compiled.category_label(result.category, language),
            }
        )
        if result.markers:
            markers = ", ".join(
                f"{compiled.criterion_label(code, language)} ({code})" for code in result.markers
            )
        else:
            markers = _("нет")
        w(_("Маркеры высокого благосостояния: %(markers)s") % {"markers": markers})
        w(
            _(
                "Базовая категория: %(base)d; баллы уязвимости: %(vulnerability)d; баллы "
                "благосостояния: %(wealth)d; итог: %(net)d; сдвиг: %(shift)+d"
            )
            % {
                "base": result.base_category,
                "vulnerability": result.vulnerability_points,
                "wealth": result.wealth_points,
                "net": result.net,
                "shift": result.shift,
            }
        )
        w(_("SHA-256 карты: %(sha)s") % {"sha": result.card_sha256})
        if saved_id is not None:
            w(_("Оценка сохранена: %(id)s") % {"id": saved_id})
        w("")

        header = (_("Критерий"), _("Значение"), _("Порог"), _("Действие"))
        rows: list[tuple[str, str, str, str]] = []
        numbers = {c.code: c.number for c in CRITERIA}
        for item in result.criteria():
            label = f"{numbers[item.code]:>2}. {compiled.criterion_label(item.code, language)}"
            value = _value_text(item.value)
            if not item.checks:
                rows.append((label, value, "—", "—"))
                continue
            for i, check in enumerate(item.checks):
                rows.append(
                    (
                        label if i == 0 else "",
                        value if i == 0 else "",
                        _threshold_text(check),
                        _effect_text(check),
                    )
                )
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
        for row in (header, *rows):
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
            w("  ".join([*cells, row[3]]).rstrip())
