"""Load family cards into the simulator.

    python manage.py familycard_load cards.json more.json     # a card or an array of cards
    python manage.py familycard_load --unknown 850307300124   # the simulator answers 404
    python manage.py familycard_load --clear new.json          # forget everything first

Every card is validated (scoring/card.py) before anything is written; one invalid card anywhere
and nothing is loaded: each problem is reported with file, card index, field path and reason.
Output gives counts only, never an ИИН.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from schools.identifiers import is_valid_iin
from scoring.simulator import services


class Command(BaseCommand):
    help = "Load family-card/1 files into the family card simulator (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="JSON file: a card or an array")
        parser.add_argument(
            "--unknown",
            action="append",
            default=[],
            metavar="IIN",
            help="ИИН the simulator must answer 404 for (repeatable)",
        )
        parser.add_argument(
            "--clear", action="store_true", help="forget all loaded cards and unknown marks first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"]
        unknown: list[str] = options["unknown"]
        if not files and not unknown and not options["clear"]:
            raise CommandError(_("Укажите файлы с картами, --unknown ИИН или --clear."))
        for position, value in enumerate(unknown, start=1):
            if not is_valid_iin(value):
                raise CommandError(
                    _("Значение №%(n)d параметра --unknown не является корректным ИИН.")
                    % {"n": position}
                )
        with transaction.atomic():
            if options["clear"]:
                services.simulated_data_clear()
                self.stdout.write(_("Загруженные данные симулятора удалены."))
            if files:
                try:
                    result = services.simulated_cards_load_files(files)
                except services.CardLoadError as exc:
                    for problem in exc.problems:
                        self.stderr.write(str(problem))
                    raise CommandError(
                        _("Ничего не загружено: найдено ошибок — %(count)d.")
                        % {"count": len(exc.problems)}
                    ) from None
                self.stdout.write(
                    self.style.SUCCESS(
                        _("Загружено карт: %(cards)d; ИИН членов семей: %(members)d.")
                        % {"cards": result.cards, "members": result.member_iins}
                    )
                )
            if unknown:
                count = services.simulated_persons_mark_unknown(unknown)
                self.stdout.write(
                    _("Отмечено неизвестными симулятору: %(count)d.") % {"count": count}
                )
