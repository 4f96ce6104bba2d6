"""Time to render one decision letter (Django template → WeasyPrint PDF), per language.

    DEBUG=1 .venv/bin/python bench/letters.py [--repeat 10]

Renders ``templates/letters/letter.html`` with a synthetic context (a fictitious school,
student and code; no database) and prints milliseconds per PDF (median and worst of
``--repeat``) and the PDF's size, for kk, ru and en. The first render of a process (font
loading) is reported apart. Prints no personal data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://bench@127.0.0.1:1/none")  # never opened
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # never opened


def context(language: str) -> dict:
    from portal.letters.codes import grouped, new_code
    from portal.letters.render import qr_data_uri

    code = grouped(new_code())
    url = f"http://127.0.0.1:8000/verify/{code}/"
    return {
        "language": language,
        "code": code,
        "verify_url": url,
        "qr": qr_data_uri(url),
        "school_name": "«№1 жалпы білім беретін мектеп» КММ",
        "district_name": "Қазыбек би атындағы аудан",
        "region_name": "Қарағанды облысы",
        "student_name": "Әлібек Ғалымжанұлы Қоңырбаев",
        "grade": 5,
        "guardian_name": "Өмірзақова Үміт Шаһизадақызы",
        "aid_kind": "мектеп формасы",
        "academic_year": "2026-2027",
        "submitted_on": "01.09.2026",
        "decided_on": "15.09.2026",
        "issued_on": "15.09.2026",
        "approved": True,
        "amount": "50 851 ₸",
        "appeal_until": "15.10.2026",
        "appeal_days": 30,
        "superseded": False,
        "assessment": True,
        "category": 2,
        "category_label": "Жоғары мұқтаждық",
        "ruleset_version": "KZ-2026.1",
        "reasons": ["…" * 40] * 4,
        "changes": ["…" * 40] * 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    import django

    django.setup()
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint import CSS, HTML

    def render(language: str) -> bytes:
        with translation.override(language):
            ctx = context(language)
            html = render_to_string("letters/letter.html", ctx)
            css = render_to_string("letters/letter.css", ctx)
        return HTML(string=html).write_pdf(stylesheets=[CSS(string=css)])

    t = time.perf_counter()
    render("kk")
    print(f"first render (fonts loaded): {(time.perf_counter() - t) * 1000:.0f} ms")
    for language in ("kk", "ru", "en"):
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            pdf = render(language)
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"{language}: median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms "
            f"per letter, {len(pdf) / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    main()
