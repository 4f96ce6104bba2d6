"""Rule sets travel between installations as ``rule-set/1`` files.

    python manage.py rules list                    # versions, status, effective dates
    python manage.py rules export KZ-2026.1 > kz.json
    python manage.py rules import kz-2027.json     # validates; creates a draft (never publishes)

An invalid file is refused with every problem's path and reason, and nothing is saved; so is a
version that is already stored.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from scoring import selectors, services
from scoring.models import RuleSet
from scoring.ruleset import RULESET_SCHEMA, RuleSetError


def _read_stdin() -> bytes | str:
    buffer = getattr(sys.stdin, "buffer", None)
    return buffer.read() if buffer is not None else sys.stdin.read()


def _resolve(schema: Any) -> dict[str, Any]:
    """Follow local ``$ref``s (``#/$defs/name``) of the rule-set schema."""
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = RULESET_SCHEMA
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = target
    return schema if isinstance(schema, dict) else {}


def schema_ordered(value: Any, schema: Any = RULESET_SCHEMA) -> Any:
    """``value`` with object keys in the order the schema lists them (others sorted after).

    PostgreSQL ``jsonb`` does not keep key order; this gives exported files the familiar layout
    of ``scoring/data/KZ-2026.1.json`` so versions can be compared with ``diff``.
    """
    schema = _resolve(schema)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        keys = [k for k in props if k in value] + sorted(k for k in value if k not in props)
        return {
            k: schema_ordered(value[k], props.get(k, extra if isinstance(extra, dict) else {}))
            for k in keys
        }
    if isinstance(value, list):
        return [schema_ordered(v, schema.get("items", {})) for v in value]
    return value


class Command(BaseCommand):
    help = "List, export and import rule sets (rule-set/1 documents)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,export,import}")
        sub.add_parser("list", help="list stored rule sets")
        export = sub.add_parser("export", help="print a rule set's document as JSON")
        export.add_argument("version", help="version, e.g. KZ-2026.1")
        imp = sub.add_parser("import", help="validate a rule-set/1 file and store it as a draft")
        imp.add_argument("file", help="path to a JSON file, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list()
        elif action == "export":
            self._export(options["version"])
        else:
            self._import(options["file"])

    # ---- list ---------------------------------------------------------------------------------
    def _list(self) -> None:
        rulesets = selectors.rulesets_all()
        if not rulesets:
            self.stdout.write(_("Наборов правил нет."))
            return
        try:
            in_force_pk: int | None = selectors.ruleset_in_force().pk
        except RuleSet.DoesNotExist:
            in_force_pk = None
        header = (_("версия"), _("статус"), _("действует с"), _("SHA-256"), "")
        rows = [
            (
                r.version,
                r.get_status_display(),
                r.effective_from.isoformat(),
                r.document_sha256[:12],
                _("действует сейчас") if r.pk == in_force_pk else "",
            )
            for r in rulesets
        ]
        widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
        for row in (header, *rows):
            line = "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())

    # ---- export -------------------------------------------------------------------------------
    def _export(self, version: str) -> None:
        try:
            ruleset = selectors.ruleset_by_version(version=version)
        except RuleSet.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        text = json.dumps(schema_ordered(ruleset.document), ensure_ascii=False, indent=2)
        self.stdout.write(text)

    # ---- import -------------------------------------------------------------------------------
    def _import(self, file: str) -> None:
        try:
            data = _read_stdin() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Не удалось прочитать файл %(file)s: %(error)s")
                % {"file": file, "error": exc.strerror or exc}
            ) from None
        try:
            ruleset = services.ruleset_import(document=data)
        except RuleSetError as exc:
            whole = _("(документ)")
            for problem in exc.problems:
                self.stderr.write(f"{file}: {problem.path or whole}: {problem.reason}")
            raise CommandError(
                _("Ничего не сохранено: ошибок — %(count)d.") % {"count": len(exc.problems)}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Набор правил %(version)s сохранён как черновик (действует с %(date)s после "
                    "публикации)."
                )
                % {"version": ruleset.version, "date": ruleset.effective_from.isoformat()}
            )
        )
