"""Throughput of card reading and the scoring engine on one core.

    .venv/bin/python bench/scoring.py [--cards 10000] [--seed 2026] [--repeat 5] [--profile]
    DATABASE_URL=… CELERY_BROKER_URL=… .venv/bin/python bench/scoring.py   # + the score_card path
      (a migrated database: the command reads the rule set in force from it)

Generates synthetic, valid family-card/1 documents deterministically (fixed seed), writes each
as JSON text, then prints cards per second, old and new side by side in one run, for

* ``assess`` alone on already parsed cards (the pure engine, target ≥ 20 000 cards/s);
* parse + validate + assess from JSON text — the **old path** (the explaining validator:
  JSON Schema ``iter_errors`` with the format checker, then the semantic checks, the card and
  the hash; what every card took before, and what a failing card still takes) and the **new
  path** (:func:`scoring.card.parse_card_document`: a compiled validator, jsonschema-rs,
  answers "valid?", the card is built while making the semantic checks, orjson writes the
  canonical JSON; target ≥ 10 000 cards/s);
* the same from already decoded documents (mappings holding binary floats, as older callers
  pass them);
* a per-phase breakdown of both paths in µs per card, and with ``--profile`` the top functions
  of a cProfile run of each;
* ``Assessment.to_dict`` (building the JSON trace), for reference;
* what would change the outcome (:func:`scoring.counterfactual.what_would_change`): per second
  on parsed cards, on a stored assessment as a page would ask for it (the frozen card rebuilt,
  the trace read back, the counterfactuals), and their words (:func:`describe`), with the
  engine evaluations per card (target ≥ 500 per second: cheap enough for every page view).

Needs no Django settings, database or network; prints no personal data, only counts and rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

# This file is called scoring.py: make sure `import scoring` finds the package, not this file.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:  # lazy translations of problems need settings, not a database
    settings.configure(USE_I18N=False)
    django.setup()

from schools.identifiers import make_identifier  # noqa: E402
from scoring import card as card_module  # noqa: E402
from scoring import counterfactual  # noqa: E402
from scoring.card import (  # noqa: E402
    Card,
    parse_card_document,
    parse_card_explained,
    parse_trusted_card,
)
from scoring.counterfactual_text import describe  # noqa: E402
from scoring.engine import Assessment, assess  # noqa: E402
from scoring.jsondoc import (  # noqa: E402
    canonical_json,
    load_json_document,
    quick_load_unchecked_keys,
)
from scoring.ruleset import load_default_ruleset  # noqa: E402

RELATIONS = ["spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"]
EDUCATION = ["none", "primary", "basic_secondary", "secondary", "vocational", "higher"]
EMPLOYMENT = ["employed", "self_employed", "unemployed", "pensioner", "student", "caregiver"]
CENTURY = {1900: 3, 2000: 5}


def _iin(rng: random.Random, birth: dt.date, sex: str) -> str:
    digit7 = CENTURY[birth.year // 100 * 100] + (1 if sex == "F" else 0)
    while True:
        value = make_identifier(f"{birth:%y%m%d}{digit7}{rng.randrange(10000):04d}")
        if value is not None:
            return value


def _bin(rng: random.Random) -> str:
    while True:
        value = make_identifier(f"{rng.randrange(10**11):011d}")
        if value is not None:
            return value


def _date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _money(rng: random.Random, p_zero: float, high: int) -> int:
    return 0 if rng.random() < p_zero else rng.randrange(1, high)


def _turnover(rng: random.Random, members: list[dict]) -> int | None:
    if rng.random() < 0.4:
        return None
    declared = sum(sum(m["incomes"].values()) for m in members)
    return int(declared * rng.uniform(0.3, 1.7)) + rng.randrange(0, 20_000)


def make_card(rng: random.Random, i: int) -> dict:
    as_of = _date(rng, dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    members = []
    size = rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 6, 8])
    for k in range(size):
        if k == 0:
            relation, birth = "applicant", _date(rng, dt.date(1960, 1, 1), dt.date(2000, 1, 1))
        elif k == 1 and rng.random() < 0.7:
            relation, birth = "spouse", _date(rng, dt.date(1960, 1, 1), dt.date(2000, 1, 1))
        else:
            relation = rng.choice(RELATIONS)
            birth = _date(rng, dt.date(1940, 1, 1), as_of)
        age_adult = (as_of - birth).days >= 18 * 365
        sex = rng.choice("MF")
        members.append(
            {
                "iin": _iin(rng, birth, sex),
                "relation": relation,
                "birth_date": birth.isoformat(),
                "sex": sex,
                "disability_group": rng.choice([None] * 12 + ["1", "2", "3", "child"]),
                "chronic_illness": rng.random() < 0.1,
                "education": rng.choice(EDUCATION),
                "employment": rng.choice(EMPLOYMENT) if age_adult else "child",
                "incomes": {
                    "salary": _money(rng, 0.4, 250_000) if age_adult else 0,
                    "pension": _money(rng, 0.85, 150_000),
                    "social_benefits": _money(rng, 0.7, 80_000),
                    "business": _money(rng, 0.97, 300_000),
                    "other": _money(rng, 0.9, 50_000),
                },
                "informal_work_signal": rng.random() < 0.15,
            }
        )
    return {
        "schema": "family-card/1",
        "family_id": f"BENCH-{i}",
        "as_of": as_of.isoformat(),
        "region": rng.choice(["KAR", "SHY"]),
        "members": members,
        "property": {
            "housing": [
                {
                    "kind": rng.choice(["apartment", "house"]),
                    "area_m2": rng.randrange(200, 1500) / 10,
                }
                for _ in range(rng.choice([0] * 8 + [1] * 11 + [2]))
            ],
            "land_plots": rng.choice([0, 0, 0, 1, 2]),
            "vehicles": [
                {
                    "kind": rng.choice(["car"] * 6 + ["truck", "motorcycle"]),
                    "year": rng.randrange(1995, 2027),
                }
                for _ in range(rng.choice([0] * 10 + [1] * 9 + [2]))
            ],
            "livestock_units": rng.choice([0, 0, 0, 3, 12]),
            "deposits_kzt": _money(rng, 0.7, 2_000_000),
        },
        "living": {
            "tenure": rng.choice(["own", "rent", "relatives"]),
            "area_m2": rng.randrange(150, 1500) / 10,
        },
        "business": {
            "legal_entities": [
                {
                    "bin": _bin(rng),
                    "role": rng.choice(["founder", "director"]),
                    "active": rng.random() < 0.8,
                }
                for _ in range(rng.choice([0] * 30 + [1]))
            ],
            "individual_entrepreneur": rng.random() < 0.08,
        },
        "credit": {
            "monthly_payments_kzt": _money(rng, 0.5, 300_000),
            "overdue_90_days": rng.random() < 0.07,
        },
        "spending": {"card_turnover_monthly_kzt": _turnover(rng, members)},
        "social_status": {
            "receives_asp": rng.random() < 0.1,
            "orphan_guardianship": rng.random() < 0.02,
            "emergency_affected": rng.random() < 0.01,
        },
    }


def _best_rate(count: int, repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def _row(label: str, rate: float, note: str = "") -> None:
    print(f"{label:<44}{rate:>10,.0f} cards/s{note}")


def _phases(texts: list[str], ruleset) -> None:  # noqa: ANN001
    """µs per card of each step of both paths (best of three over all cards)."""
    import hashlib

    docs = [load_json_document(t) for t in texts]
    floats_docs = [json.loads(t) for t in texts]
    cards = [parse_card_document(t).card for t in texts]
    validator = card_module._VALIDATOR
    fast = card_module._FAST_VALIDATOR

    def per_card(run: Callable[[], object]) -> float:
        return 1e6 / _best_rate(len(texts), 3, run)

    new = {
        "decode (exact numbers, bounded; keys counted)": lambda: [
            (quick_load_unchecked_keys(t), t.count(":")) for t in texts
        ],
        "compiled validator (jsonschema-rs)": lambda: [fast.is_valid(d) for d in docs],
        "build the card + semantic checks": lambda: [card_module._build(d, True) for d in docs],
        "canonical JSON (orjson) + SHA-256": lambda: [
            hashlib.sha256(canonical_json(d, floats=False)).hexdigest() for d in docs
        ],
        "assess": lambda: [assess(c, ruleset, card_sha256="-") for c in cards],
    }
    old = {
        "decode (duplicate keys by a hook)": lambda: [load_json_document(t) for t in texts],
        "JSON Schema iter_errors + format checker": lambda: [
            list(validator.iter_errors(d)) for d in docs
        ],
        "semantic checks": lambda: [card_module._semantic_problems(d) for d in docs],
        "build the card": lambda: [card_module._build(d, False) for d in docs],
        "canonical JSON (json.dumps) + SHA-256": lambda: [
            hashlib.sha256(canonical_json(d)).hexdigest() for d in floats_docs
        ],
        "assess": lambda: [assess(c, ruleset, card_sha256="-") for c in cards],
    }
    for title, steps in (("new path", new), ("old path", old)):
        print(f"  {title}, µs per card:")
        total = 0.0
        for label, run in steps.items():
            us = per_card(run)
            total += us
            print(f"    {label:<48}{us:>8.1f}")
        print(f"    {'sum':<48}{total:>8.1f}")


def _profile(label: str, run: Callable[[], object]) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    print(f"  cProfile, {label} (top 12 by own time):")
    for line in lines[start : start + 13]:
        print("    " + line.replace(str(ROOT) + "/", "")[:150])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print cProfile tops")
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    rng = random.Random(args.seed)
    docs = [make_card(rng, i) for i in range(args.cards)]
    texts = [json.dumps(doc, ensure_ascii=False) for doc in docs]
    ruleset = load_default_ruleset()
    parsed = [parse_card_document(text) for text in texts]
    cards: list[Card] = [p.card for p in parsed]
    results = [assess(p.card, ruleset, card_sha256=p.sha256) for p in parsed]
    assert all(
        p.sha256 == parse_card_explained(t).sha256
        for p, t in zip(parsed[:200], texts[:200], strict=True)
    )

    def engine() -> None:
        for card in cards:
            assess(card, ruleset)

    def new_text() -> None:
        for text in texts:
            p = parse_card_document(text)
            assess(p.card, ruleset, card_sha256=p.sha256)

    def old_text() -> None:
        for text in texts:
            p = parse_card_explained(text)
            assess(p.card, ruleset, card_sha256=p.sha256)

    def new_docs() -> None:
        for doc in docs:
            p = parse_card_document(doc)
            assess(p.card, ruleset, card_sha256=p.sha256)

    def old_docs() -> None:
        for doc in docs:
            p = parse_card_explained(doc)
            assess(p.card, ruleset, card_sha256=p.sha256)

    def trace() -> None:
        for a in results:
            a.to_dict()

    half = max(1, args.repeat // 2)
    engine_rate = _best_rate(len(cards), args.repeat, engine)
    new_rate = _best_rate(len(texts), args.repeat, new_text)
    old_rate = _best_rate(len(texts), half, old_text)
    new_docs_rate = _best_rate(len(docs), half, new_docs)
    old_docs_rate = _best_rate(len(docs), half, old_docs)
    trace_rate = _best_rate(len(results), half, trace)

    mix = Counter(a.category for a in results)
    print(f"cards: {len(docs)} (seed {args.seed}), rule set {ruleset.version}, one core")
    print("categories: " + ", ".join(f"{c}: {mix[c]}" for c in range(1, 7)))
    _row("assess() only (parsed cards)", engine_rate, "   (target 20,000)")
    print("parse + validate + assess, from JSON text:")
    _row("  old path (explaining validator)", old_rate)
    _row("  new path (compiled validator)", new_rate,
         f"   (target 10,000; {new_rate / old_rate:.1f}× the old path)")  # fmt: skip
    print("parse + validate + assess, from decoded documents (floats):")
    _row("  old path (explaining validator)", old_docs_rate)
    _row("  new path (compiled validator)", new_docs_rate,
         f"   ({new_docs_rate / old_docs_rate:.1f}× the old path)")  # fmt: skip
    _row("Assessment.to_dict() (trace)", trace_rate)
    if engine_rate < 20_000:
        print("note: assess() is below the 20,000 cards/s target on this machine")
    if new_rate < 10_000:
        print("note: the new path is below the 10,000 cards/s target on this machine")
    print("breakdown (from JSON text):")
    _phases(texts[: min(len(texts), 3000)], ruleset)
    if args.profile:
        _profile("new path", new_text)
        sample = texts[: min(len(texts), 2000)]
        _profile(
            f"old path ({len(sample)} cards)",
            lambda: [parse_card_explained(t) for t in sample],
        )
    _counterfactuals(parsed, results, ruleset, args.repeat)
    if os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL"):
        rate = _score_card_rate(docs)
        _row("manage.py score_card --json", rate, "   (whole command, one process)")
    else:
        print("score_card path: set DATABASE_URL and CELERY_BROKER_URL to measure it too")


def _counterfactuals(parsed: list, results: list, ruleset, repeat: int) -> None:  # noqa: ANN001
    """What would change the outcome: on parsed cards, on stored assessments, in words."""
    count = min(len(parsed), 2000)
    sample = list(zip(parsed[:count], results[:count], strict=True))
    stored = [(p.document, p.sha256, a.to_dict()) for p, a in sample]
    before = counterfactual._Context.assess
    evaluations = 0

    def counting(self, card):  # noqa: ANN001, ANN202
        nonlocal evaluations
        evaluations += 1
        return before(self, card)

    counterfactual._Context.assess = counting  # type: ignore[method-assign]
    try:
        found = [counterfactual.what_would_change(p, ruleset, a) for p, a in sample]
    finally:
        counterfactual._Context.assess = before  # type: ignore[method-assign]
    suggestions = sum(len(cf.suggestions) for cf in found)
    borderline = sum(cf.borderline for cf in found)

    def on_cards() -> None:
        for p, a in sample:
            counterfactual.what_would_change(p, ruleset, a)

    def on_stored() -> None:  # what a page does with an Assessment row (less the ORM read)
        for document, sha, trace in stored:
            counterfactual.what_would_change(
                parse_trusted_card(document, sha), ruleset, Assessment.from_dict(trace)
            )

    def words() -> None:
        for cf in found:
            describe(cf, ruleset, "ru")

    half = max(1, repeat // 2)
    print(
        f"what would change the outcome ({count} cards: {suggestions / count:.1f} suggestions, "
        f"{evaluations / count:.1f} engine evaluations per card, {borderline} borderline):"
    )
    _row("  what_would_change() (parsed cards)", _best_rate(count, half, on_cards),
         "   (target 500: every page view)")  # fmt: skip
    _row("  from a stored assessment (card + trace)", _best_rate(count, half, on_stored))
    _row("  describe() in Russian (the words)", _best_rate(count, half, words))


def _score_card_rate(docs: list[dict]) -> float:
    """The command-line path: `manage.py score_card --json` over one file per card, timed
    as a whole process (start-up, reading the rule set, parsing, scoring, printing)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, doc in enumerate(docs):
            path = Path(tmp) / f"c{i:05d}.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
            paths.append(path.name)
        env = {**os.environ, "KOMEK_TESTING": os.environ.get("KOMEK_TESTING", "1")}
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "score_card", "--json", *paths],
            cwd=tmp, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if len(lines) != len(docs):
        raise SystemExit(f"score_card printed {len(lines)} results for {len(docs)} cards: "
                         f"{done.stderr[-500:]}")  # fmt: skip
    return len(docs) / elapsed


if __name__ == "__main__":
    main()
