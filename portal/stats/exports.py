"""Every figure of a dashboard as rows (CSV) and sheets (XLSX, openpyxl)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _


def total_labels() -> list[tuple[str, str]]:
    return [
        ("requests", _("Заявок получено")),
        ("scored", _("Оценено")),
        ("pending", _("В очереди на оценку")),
        ("needs_review", _("Требуют проверки")),
        ("withdrawn", _("Отозвано")),
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


def sheets(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, header, rows) for every table of the dashboard."""
    unit = data["unit"]
    out = [
        (
            _("Сводка"),
            [_("Показатель"), _("Значение")],
            [[_("Территория"), unit["name"]]]
            + [[label, data["totals"][key]] for key, label in total_labels()],
        ),
        (
            _("Категории"),
            [_("Категория"), _("Заявок")],
            [[c["category"], c["requests"]] for c in data["categories"]],
        ),
        (
            _("По месяцам"),
            [_("Месяц")] + [label for _k, label in month_labels()],
            [[m["month"]] + [m[k] for k, _l in month_labels()] for m in data["months"]],
        ),
        (
            _("Время оценки"),
            [_("Интервал"), _("Заявок")],
            [[d["bucket"], d["requests"]] for d in data["durations"]],
        ),
    ]
    if data["children"]:
        out.append(
            (
                _("Подразделения"),
                [_("Код"), _("Название")] + [label for _k, label in child_labels()],
                [
                    [c["code"], c["name"]] + [c[k] for k, _l in child_labels()]
                    for c in data["children"]
                ],
            )
        )
    return out


def to_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for title, header, rows in sheets(data):
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
    return "\ufeff" + buf.getvalue()


def to_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets(data):
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        ws.column_dimensions["A"].width = 40
        ws.column_dimensions["B"].width = 40 if len(header) > 2 else 16
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
