"""Every worked example in shared/contracts/examples scores as expected.json says, via the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

EXAMPLES = Path(settings.BASE_DIR) / "scoring" / "data" / "examples"  # copies of shared/contracts
EXPECTED: dict[str, dict] = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))


def test_it_has_a_card_for_every_expected_result() -> None:
    cards = {p.stem for p in EXAMPLES.glob("*.json") if p.name != "expected.json"}
    assert cards == set(EXPECTED)
    assert len(cards) >= 9


def test_it_scores_every_example_as_expected_through_score_card_json() -> None:
    files = [str(EXAMPLES / f"{name}.json") for name in sorted(EXPECTED)]
    out = io.StringIO()
    call_command("score_card", "--json", *files, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["file"] for line in lines] == files
    for line in lines:
        name = Path(line["file"]).stem
        expected = EXPECTED[name]
        got = {k: line[k] for k in ("category", "high_welfare", "markers")}
        assert got == expected, name
        assert line["rule_set"] == "KZ-2026.1"
        assert len(line["criteria"]) == 23


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_shows_the_expected_category_in_the_readable_output(name: str) -> None:
    out = io.StringIO()
    call_command("score_card", "--language", "en", str(EXAMPLES / f"{name}.json"), stdout=out)
    assert f": {EXPECTED[name]['category']} — " in out.getvalue()
