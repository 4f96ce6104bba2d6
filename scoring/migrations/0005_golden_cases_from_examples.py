"""Load the worked examples (scoring/data/examples/*.json + expected.json) as golden cases."""

import hashlib
import json
from pathlib import Path

from django.db import migrations

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "examples"


def _canonical(doc):
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def load_golden_cases(apps, schema_editor):
    GoldenCase = apps.get_model("scoring", "GoldenCase")
    expected = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
    for name, want in sorted(expected.items()):
        if GoldenCase.objects.filter(name=name, source="example").exists():
            continue
        card = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
        GoldenCase.objects.create(
            name=name,
            card=card,
            card_sha256=hashlib.sha256(_canonical(card)).hexdigest(),
            expected_category=want["category"],
            expected_high_welfare=want["high_welfare"],
            active=True,
            source="example",
        )


def unload_golden_cases(apps, schema_editor):
    apps.get_model("scoring", "GoldenCase").objects.filter(source="example").delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0004_governance")]

    operations = [migrations.RunPython(load_golden_cases, unload_golden_cases)]
