"""`manage.py score_card` and `manage.py rules` (list / export / import)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from scoring.models import Assessment, RuleSet, RuleSetStatus
from scoring.ruleset import DEFAULT_RULESET_PATH
from tests.dburl import current_database_url
from tests.scoring import cards as b

pytestmark = pytest.mark.django_db

DEFAULT = "KZ-2026.1"


def run(
    *args: str, stdin: str | None = None, monkeypatch=None
) -> tuple[str, str, Exception | None]:
    """Call a command; return (stdout, stderr, the CommandError raised or None)."""
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write(path: Path, doc: dict | str) -> str:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def boundary_card() -> dict:
    """Two adults, per-capita income exactly 3.5 × ПМ 2026 (income_ratio 3.5): category 5."""
    return b.card(members=[b.adult(salary=7 * b.PM_2026), b.spouse(salary=0)])


def wrong_check_digit(iin: str) -> str:
    return iin[:11] + str((int(iin[11]) + 1) % 10)


# --------------------------------------------------------------------------- score_card


def test_it_scores_a_card_as_json_with_all_23_criteria(tmp_path) -> None:
    path = write(tmp_path / "boundary.json", boundary_card())
    out, _err, exc = run("score_card", "--json", path)
    assert exc is None
    [line] = json_lines(out)
    assert line["file"] == path
    assert (line["category"], line["high_welfare"], line["markers"]) == (5, False, [])
    assert line["rule_set"] == DEFAULT
    assert len(line["criteria"]) == 23
    assert line["criteria"]["income_ratio"] == "3.5000"
    assert line["criteria"]["family_size"] == 2
    assert line["criteria"]["hidden_income"] is False
    assert len(line["card_sha256"]) == 64
    assert line["category_label"] == "Достаточный уровень благосостояния"
    assert Assessment.objects.count() == 0  # pure scoring: nothing saved


def test_it_reports_bad_cards_by_path_and_still_scores_the_good_ones(tmp_path) -> None:
    good = write(tmp_path / "good.json", b.card())
    bad_iin = b.card()
    bad_iin["members"][0]["iin"] = wrong_check_digit(bad_iin["members"][0]["iin"])
    unborn = b.card(members=[b.adult(salary=100_000), b.child(dt.date(2026, 12, 1))])
    missing = b.card()
    del missing["region"]
    files = [
        write(tmp_path / "iin.json", bad_iin),
        good,
        write(tmp_path / "unborn.json", unborn),
        write(tmp_path / "missing.json", missing),
        write(tmp_path / "garbage.json", "{not json"),
        write(tmp_path / "2023.json", b.card(as_of=dt.date(2023, 2, 1))),
        str(tmp_path / "absent.json"),
    ]
    out, _err, exc = run("score_card", "--json", *files)
    assert isinstance(exc, CommandError)
    assert "6" in str(exc) and "7" in str(exc)
    lines = {line["file"]: line for line in json_lines(out)}
    assert list(lines) == files
    assert lines[good]["category"] == 4
    assert "error" not in lines[good]

    def paths(name: str) -> list[str]:
        line = lines[str(tmp_path / name)]
        assert "category" not in line
        assert line["error"]
        return [e["path"] for e in line["errors"]]

    assert paths("iin.json") == ["members[0].iin"]
    assert "members[0].iin" in lines[files[0]]["error"]
    assert paths("unborn.json") == ["members[1].birth_date"]
    assert paths("missing.json") == ["region"]
    assert paths("garbage.json") == [""]
    assert paths("2023.json") == ["parameters.subsistence_minimum.2023"]
    assert paths("absent.json") == [""]
    # no identifiers leak into error messages
    assert bad_iin["members"][0]["iin"] not in out


def test_it_prints_errors_on_stderr_and_exits_non_zero_in_human_mode(tmp_path) -> None:
    bad = b.card()
    bad["members"][0]["birth_date"] = "2030-01-01"
    out, err, exc = run(
        "score_card", write(tmp_path / "good.json", b.card()), write(tmp_path / "bad.json", bad)
    )
    assert isinstance(exc, CommandError)
    assert "members[0].birth_date" in err
    assert "good.json" in out and "Категория: 4" in out


def test_it_reads_a_card_from_stdin(monkeypatch) -> None:
    out, _err, exc = run(
        "score_card", "--json", "-", stdin=json.dumps(boundary_card()), monkeypatch=monkeypatch
    )
    assert exc is None
    [line] = json_lines(out)
    assert (line["file"], line["category"]) == ("-", 5)


@pytest.mark.parametrize(
    ("language", "category_label", "criterion_label"),
    [
        ("ru", "Достаточный уровень благосостояния", "Доход на члена семьи к ПМ"),
        ("kk", "Жеткілікті әл-ауқат", "Отбасы мүшесіне шаққандағы табыстың ЕКШ-ға қатынасы"),
        ("en", "Sufficient welfare", "Per-capita income to subsistence minimum"),
    ],
)
def test_it_prints_a_per_criterion_table_with_labels_from_the_rule_set(
    tmp_path, language, category_label, criterion_label
) -> None:
    path = write(tmp_path / "card.json", boundary_card())
    out, _err, exc = run("score_card", "--language", language, path)
    assert exc is None
    assert f"5 — {category_label}" in out
    assert DEFAULT in out
    row = next(line for line in out.splitlines() if criterion_label in line)
    assert "3.5000" in row and "> 4" in row  # value, marker threshold
    assert "< 0.55" in out and "≥ 1" in out  # band and point thresholds


def test_it_saves_assessments_only_when_asked(tmp_path) -> None:
    path = write(tmp_path / "card.json", boundary_card())
    out, _err, exc = run("score_card", "--json", "--save", path)
    assert exc is None
    [line] = json_lines(out)
    saved = Assessment.objects.get()
    assert line["assessment"] == str(saved.public_id)
    assert saved.category == line["category"] == 5
    assert saved.card_sha256 == line["card_sha256"]


def test_it_fails_clearly_for_an_unknown_rules_version(tmp_path) -> None:
    path = write(tmp_path / "card.json", b.card())
    with pytest.raises(CommandError, match="NOPE-9"):
        call_command("score_card", "--rules", "NOPE-9", path, stdout=io.StringIO())


def test_it_exits_with_status_1_from_the_shell(tmp_path) -> None:
    """A real process: `manage.py score_card` against the (committed) test database."""
    env = {**os.environ, "DATABASE_URL": current_database_url(), "KOMEK_TESTING": "1"}
    good = write(tmp_path / "good.json", b.card())
    bad = write(tmp_path / "bad.json", "[]")
    manage = Path(settings.BASE_DIR) / "manage.py"
    ok = subprocess.run(
        [sys.executable, manage, "score_card", "--json", good],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json_lines(ok.stdout)[0]["category"] == 4
    failed = subprocess.run(
        [sys.executable, manage, "score_card", "--json", "-", bad],
        env=env,
        input=json.dumps(b.card()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1
    lines = json_lines(failed.stdout)
    assert lines[0]["category"] == 4
    assert lines[1]["file"] == bad and lines[1]["error"]


# --------------------------------------------------------------------------- rules


def test_it_lists_the_rule_sets_and_which_is_in_force() -> None:
    out, _err, exc = run("rules", "list")
    assert exc is None
    [row] = [line for line in out.splitlines() if DEFAULT in line]
    assert "2025-09-01" in row and "опубликован" in row and "действует сейчас" in row


def test_it_exports_the_document_as_shipped() -> None:
    out, _err, exc = run("rules", "export", DEFAULT)
    assert exc is None
    assert out.rstrip("\n") == DEFAULT_RULESET_PATH.read_text(encoding="utf-8").rstrip("\n")
    with pytest.raises(CommandError, match="NOPE-1"):
        call_command("rules", "export", "NOPE-1", stdout=io.StringIO())


def test_it_changes_a_category_through_an_imported_threshold_without_code(tmp_path) -> None:
    card = write(tmp_path / "boundary.json", boundary_card())
    out, _err, _exc = run("rules", "export", DEFAULT)
    doc = json.loads(out)
    [marker] = [m for m in doc["high_welfare"]["markers"] if m["criterion"] == "income_ratio"]
    assert marker["value"] == "4"
    marker["value"] = "3"
    doc["version"] = "KZ-2026.2-test"
    out, err, exc = run("rules", "import", write(tmp_path / "new.json", doc))
    assert exc is None, err
    assert "KZ-2026.2-test" in out
    draft = RuleSet.objects.get(version="KZ-2026.2-test")
    assert draft.status == RuleSetStatus.DRAFT

    out, _err, _exc = run("rules", "list")
    assert any("KZ-2026.2-test" in line and "черновик" in line for line in out.splitlines())

    before = json_lines(run("score_card", "--json", card)[0])[0]
    after = json_lines(run("score_card", "--json", "--rules", "KZ-2026.2-test", card)[0])[0]
    assert (before["rule_set"], before["category"], before["markers"]) == (DEFAULT, 5, [])
    assert (after["rule_set"], after["category"], after["markers"]) == (
        "KZ-2026.2-test",
        6,
        ["income_ratio"],
    )
    assert after["high_welfare"] is True
    assert before["card_sha256"] == after["card_sha256"]
    # The old version stays usable by name.
    again = json_lines(run("score_card", "--json", "--rules", DEFAULT, card)[0])[0]
    assert again["category"] == 5

    # Importing the same version again is refused.
    _out, err, exc = run("rules", "import", write(tmp_path / "again.json", doc))
    assert isinstance(exc, CommandError)
    assert "version" in err
    assert RuleSet.objects.count() == 2


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d["bands"].pop(2), "bands"),  # a gap: category 3 missing
        (lambda d: d["bands"][2].update(category=4), "bands[2].category"),
        (lambda d: d["bands"][3].update(income_ratio_below="1.5"), "bands[3].income_ratio_below"),
        (lambda d: d["labels"]["categories"]["4"].pop("kk"), "labels.categories.4.kk"),
        (lambda d: d["labels"]["criteria"]["minors"].pop("kk"), "labels.criteria.minors.kk"),
        (lambda d: d["high_welfare"]["markers"][0].update(op="~"), "high_welfare.markers[0].op"),
    ],
)
def test_it_refuses_a_bad_rule_set_file_naming_the_path_and_saves_nothing(
    tmp_path, edit, path
) -> None:
    doc = json.loads(DEFAULT_RULESET_PATH.read_text(encoding="utf-8"))
    doc["version"] = "KZ-bad"
    edit(doc)
    _out, err, exc = run("rules", "import", write(tmp_path / "bad.json", doc))
    assert isinstance(exc, CommandError)
    assert f": {path}: " in err
    assert not RuleSet.objects.filter(version="KZ-bad").exists()
    assert RuleSet.objects.count() == 1


def test_it_refuses_a_file_that_is_not_json_or_missing(tmp_path) -> None:
    _out, err, exc = run("rules", "import", write(tmp_path / "bad.json", "{"))
    assert isinstance(exc, CommandError)
    assert err.strip()
    with pytest.raises(CommandError):
        call_command("rules", "import", str(tmp_path / "absent.json"), stdout=io.StringIO())
    assert RuleSet.objects.count() == 1


def test_it_imports_from_stdin(monkeypatch) -> None:
    doc = json.loads(DEFAULT_RULESET_PATH.read_text(encoding="utf-8"))
    doc["version"] = "KZ-stdin"
    _out, err, exc = run("rules", "import", "-", stdin=json.dumps(doc), monkeypatch=monkeypatch)
    assert exc is None, err
    assert RuleSet.objects.get(version="KZ-stdin").status == RuleSetStatus.DRAFT
