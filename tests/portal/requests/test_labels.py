"""The reason for category 6 is shown by the markers' names in the user's language."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.utils import translation

from portal.requests.selectors import category_label, criteria_rows, marker_labels
from scoring.services import assessment_create

EXAMPLES = Path(settings.BASE_DIR) / "scoring" / "data" / "examples"


def test_it_names_markers_and_criteria_in_the_active_language(db):
    card = json.loads((EXAMPLES / "06-two-homes.json").read_text(encoding="utf-8"))
    assessment = assessment_create(card_doc=card)
    assert assessment.markers == ["housing_units"]
    with translation.override("ru"):
        assert marker_labels(assessment) == ["Количество единиц жилья"]
        assert category_label(assessment) == "Высокий уровень благосостояния"
    with translation.override("kk"):
        assert marker_labels(assessment) == ["Тұрғын үй бірліктерінің саны"]
    with translation.override("en"):
        assert marker_labels(assessment) == ["Housing units owned"]
        rows = {r["code"]: r["label"] for r in criteria_rows(assessment)}
        assert rows["income_ratio"] == "Per-capita income to subsistence minimum"
        assert len(rows) == 23
