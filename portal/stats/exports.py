"""Every figure of a dashboard as rows (CSV) and sheets (XLSX, openpyxl)."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

from portal.exports import csv_writer, xlsx_append
from portal.stats.suppression import HIDDEN_MARK


def total_labels() -> list[tuple[str, str]]:
    return [
        ("requests", _("Заявок получено")),
        ("scored", _("Оценено")),
        ("pending", _("В очереди на оценку")),
        ("needs_review", _("Требуют проверки")),
        ("withdrawn", _("Отозвано")),
        ("no_decision", _("Без решения")),
        ("high_welfare", _("Высокий уровень благосостояния (категория 6)")),
        ("approved", _("Одобрено")),
        ("rejected", _("Отказано")),
        ("against", _("Решений вопреки рекомендации")),
        ("amount_requested", _("Запрошено, ₸")),
        ("amount_approved", _("Одобрено, ₸")),
        ("median_seconds", _("Медиана от подачи до оценки, с")),
    ]


def child_labels() -> list[tuple[str, str]]:
    return [
        ("requests", _("Заявок")),
        ("scored", _("Оценено")),
        ("high_welfare", _("Категория 6")),
        ("pending", _("В очереди")),
        ("needs_review", _("Требуют проверки")),
        ("approved", _("Одобрено")),
        ("rejected", _("Отказано")),
        ("amount_approved", _("Одобрено, ₸")),
    ]


def month_labels() -> list[tuple[str, str]]:
    return [
        ("requests", _("Заявок")),
        ("scored", _("Оценено")),
        ("high_welfare", _("Категория 6")),
        ("approved", _("Одобрено")),
        ("amount_approved", _("Одобрено, ₸")),
    ]


def _v(value: Any) -> Any:
    """A figure as written to a file: a hidden one as the mark."""
    return HIDDEN_MARK if value is None else value


def meta_lines(data: dict[str, Any], meta: dict[str, Any]) -> list[list[Any]]:
    """What every export states first: the unit, the filters, the time of export and how
    hidden figures are marked."""
    lines: list[list[Any]] = [
        [_("Komek — статистика заявок на помощь")],
        [_("Территория"), meta["unit_label"]],
    ]
    lines += [[_("Фильтр: %(name)s") % {"name": label}, value] for label, value in meta["filters"]]
    lines.append([_("Время выгрузки"), meta["exported_at"]])
    if data.get("suppression", {}).get("applied"):
        lines.append(
            [
                _("Скрытые значения"),
                _(
                    "%(mark)s — меньше %(n)s заявок или скрыто, чтобы такое значение нельзя "
                    "было вычислить из других"
                )
                % {"mark": HIDDEN_MARK, "n": data["suppression"]["min_cell"]},
            ]
        )
    return lines


def sheets(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, header, rows) for every table of the dashboard."""
    unit = data["unit"]
    out = [
        (
            _("Сводка"),
            [_("Показатель"), _("Значение")],
            [[_("Территория"), unit["name"]]]
            + [[label, _v(data["totals"][key])] for key, label in total_labels()],
        ),
        (
            _("Категории"),
            [_("Категория"), _("Заявок")],
            [[c["category"], _v(c["requests"])] for c in data["categories"]],
        ),
        (
            _("По месяцам"),
            [_("Месяц")] + [label for _k, label in month_labels()],
            [[m["month"]] + [_v(m[k]) for k, _l in month_labels()] for m in data["months"]],
        ),
        (
            _("Время оценки"),
            [_("Интервал"), _("Заявок")],
            [[d["bucket"], _v(d["requests"])] for d in data["durations"]],
        ),
    ]
    if data["children"]:
        out.append(
            (
                _("Подразделения"),
                [_("Код"), _("Название")] + [label for _k, label in child_labels()],
                [
                    [c["code"], c["name"]] + [_v(c[k]) for k, _l in child_labels()]
                    for c in data["children"]
                ],
            )
        )
    return out


def to_csv(data: dict[str, Any], meta: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerows(meta_lines(data, meta))
    writer.writerow([])
    for title, header, rows in sheets(data):
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
    return "\ufeff" + buf.getvalue()


def to_xlsx(data: dict[str, Any], meta: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    info = wb.active
    info.title = str(_("Сведения"))[:31]
    for line in meta_lines(data, meta):
        xlsx_append(info, line)
    info["A1"].font = Font(bold=True)
    info.column_dimensions["A"].width = 32
    info.column_dimensions["B"].width = 70
    for title, header, rows in sheets(data):
        ws = wb.create_sheet(str(title)[:31])
        xlsx_append(ws, header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            xlsx_append(ws, row)
        ws.column_dimensions["A"].width = 40
        ws.column_dimensions["B"].width = 40 if len(header) > 2 else 16
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
