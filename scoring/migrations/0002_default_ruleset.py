"""Load the default rule set KZ-2026.1 (scoring/data/KZ-2026.1.json) as published.

The file's canonical JSON is pinned by its SHA-256: KZ-2026.1 is published, so its content must
be the same in every installation. A change to the methodology is a new version (imported as a
draft with ``manage.py rules import`` and published), never an edit of this file.
"""

import datetime as dt
import hashlib
import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

VERSION = "KZ-2026.1"
PATH = Path(__file__).resolve().parent.parent / "data" / "KZ-2026.1.json"
SHA256 = "0d876d8b0092c75ffad75d45fbf352b0b81ffd88940244f8ccdaf43111c6e52d"


def _canonical(doc):
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def load_default_ruleset(apps, schema_editor):
    RuleSet = apps.get_model("scoring", "RuleSet")
    if RuleSet.objects.filter(version=VERSION).exists():
        return
    document = json.loads(PATH.read_text(encoding="utf-8"))
    digest = hashlib.sha256(_canonical(document)).hexdigest()
    if digest != SHA256 or document.get("version") != VERSION:
        raise RuntimeError(
            f"{PATH} is not the published {VERSION} (canonical SHA-256 {digest}, expected "
            f"{SHA256}). A published rule set never changes: ship the change as a new version."
        )
    RuleSet.objects.create(
        version=VERSION,
        status="published",
        effective_from=dt.date.fromisoformat(document["effective_from"]),
        document=document,
        document_sha256=digest,
        published_at=timezone.now(),
    )


def unload_default_ruleset(apps, schema_editor):
    RuleSet = apps.get_model("scoring", "RuleSet")
    RuleSet.objects.filter(version=VERSION, document_sha256=SHA256).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(load_default_ruleset, unload_default_ruleset)]
