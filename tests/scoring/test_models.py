"""Rule sets as stored data and assessments as insert-only records (models, services, selectors)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from scoring import engine
from scoring.card import CardError, canonical_json, card_sha256
from scoring.models import Assessment, RuleSet, RuleSetStatus, document_sha256
from scoring.ruleset import (
    MissingParameterError,
    RuleSetError,
    load_default_ruleset,
)
from scoring.selectors import (
    assessment_chain,
    compiled_ruleset,
    ruleset_by_version,
    ruleset_in_force,
)
from scoring.services import (
    assessment_create,
    ruleset_import,
    ruleset_publish,
    score_card_document,
)
from tests.scoring import cards as b

pytestmark = pytest.mark.django_db

DEFAULT = "KZ-2026.1"


def boundary_card() -> dict:
    """Two adults, per-capita income exactly 3.5 × ПМ 2026: category 5 under KZ-2026.1."""
    return b.card(members=[b.adult(salary=7 * b.PM_2026), b.spouse(salary=0)])


def new_version(version: str = "KZ-2026.2-test", marker_income_ratio: str = "3") -> dict:
    doc = b.ruleset_doc()
    doc["version"] = version
    for marker in doc["high_welfare"]["markers"]:
        if marker["criterion"] == "income_ratio":
            marker["value"] = marker_income_ratio
    return doc


def _fails_in_db(statement) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        statement()


# --------------------------------------------------------------------------- the default rule set


def test_it_provides_kz_2026_1_as_published_and_in_force_from_the_data_migration() -> None:
    ruleset = ruleset_in_force(on=b.AS_OF)
    assert ruleset.version == DEFAULT
    assert ruleset.status == RuleSetStatus.PUBLISHED
    assert ruleset.effective_from == dt.date(2025, 9, 1)
    assert ruleset.published_at is not None
    assert ruleset.document_sha256 == load_default_ruleset().sha256
    assert compiled_ruleset(ruleset) == load_default_ruleset()
    assert ruleset_in_force() == ruleset  # today
    assert ruleset_by_version(version=DEFAULT) == ruleset


def test_it_has_no_rule_set_in_force_before_the_first_effective_date() -> None:
    with pytest.raises(RuleSet.DoesNotExist, match="2025-08-31"):
        ruleset_in_force(on=dt.date(2025, 8, 31))
    assert ruleset_in_force(on=dt.date(2025, 9, 1)).version == DEFAULT


def test_it_names_an_unknown_version() -> None:
    with pytest.raises(RuleSet.DoesNotExist, match="NOPE-1"):
        ruleset_by_version(version="NOPE-1")


# --------------------------------------------------------------------------- immutability


def test_it_refuses_to_change_a_published_rule_set_through_the_model() -> None:
    ruleset = ruleset_by_version(version=DEFAULT)
    ruleset.document["bands"][0]["income_ratio_below"] = "0.6"
    with pytest.raises(ValidationError) as exc:
        ruleset.full_clean()
    assert "document" in exc.value.message_dict
    with pytest.raises(ValidationError):
        ruleset.save()

    ruleset.refresh_from_db()
    ruleset.effective_from = dt.date(2024, 1, 1)
    with pytest.raises(ValidationError):
        ruleset.save()
    ruleset.refresh_from_db()
    ruleset.status = RuleSetStatus.DRAFT
    with pytest.raises(ValidationError):
        ruleset.save()
    ruleset.refresh_from_db()
    with pytest.raises(ValidationError):
        ruleset.delete()

    ruleset.refresh_from_db()
    assert ruleset.document == load_default_ruleset().to_dict()
    assert ruleset.status == RuleSetStatus.PUBLISHED


def test_it_refuses_to_change_a_published_rule_set_in_the_database() -> None:
    rows = RuleSet.objects.filter(version=DEFAULT)
    changed = load_default_ruleset().to_dict()
    changed["bands"][0]["income_ratio_below"] = "0.6"
    _fails_in_db(lambda: rows.update(document=changed))
    _fails_in_db(lambda: rows.update(effective_from=dt.date(2024, 1, 1)))
    _fails_in_db(lambda: rows.update(version="KZ-other"))
    _fails_in_db(lambda: rows.update(status="draft"))
    _fails_in_db(lambda: rows.delete())

    def raw_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE scoring_ruleset SET document = jsonb_set(document, "
                "'{bands,0,income_ratio_below}', '\"0.6\"') WHERE version = %s",
                [DEFAULT],
            )

    _fails_in_db(raw_sql)
    assert ruleset_by_version(version=DEFAULT).document == load_default_ruleset().to_dict()
    # Saving a published rule set unchanged is harmless.
    ruleset = ruleset_by_version(version=DEFAULT)
    ruleset.save()


def test_it_retires_a_published_rule_set_and_never_brings_it_back() -> None:
    ruleset = ruleset_by_version(version=DEFAULT)
    ruleset.status = RuleSetStatus.RETIRED
    ruleset.full_clean()
    ruleset.save()
    with pytest.raises(RuleSet.DoesNotExist):
        ruleset_in_force(on=b.AS_OF)
    ruleset.status = RuleSetStatus.PUBLISHED
    with pytest.raises(ValidationError):
        ruleset.save()
    _fails_in_db(lambda: RuleSet.objects.filter(pk=ruleset.pk).update(status="published"))


# --------------------------------------------------------------------------- import and publish


def test_it_imports_a_rule_set_as_a_draft_and_refuses_an_existing_version() -> None:
    draft = ruleset_import(document=new_version())
    assert draft.status == RuleSetStatus.DRAFT
    assert draft.published_at is None
    assert draft.document_sha256 == document_sha256(draft.document)
    assert ruleset_in_force(on=b.AS_OF).version == DEFAULT  # a draft is never in force

    with pytest.raises(RuleSetError) as exc:
        ruleset_import(document=new_version())
    assert exc.value.paths == ["version"]
    with pytest.raises(RuleSetError):
        ruleset_import(document=b.ruleset_doc())  # KZ-2026.1 itself
    assert RuleSet.objects.count() == 2


def test_it_saves_nothing_when_the_document_is_invalid() -> None:
    doc = new_version()
    del doc["labels"]["categories"]["3"]["kk"]
    doc["bands"][2]["category"] = 4
    with pytest.raises(RuleSetError) as exc:
        ruleset_import(document=doc)
    assert "labels.categories.3.kk" in exc.value.paths
    with pytest.raises(RuleSetError) as exc:
        ruleset_import(document="{not json")
    assert exc.value.paths == [""]
    assert RuleSet.objects.count() == 1


def test_it_lets_a_draft_change_and_then_freezes_it_when_published(django_user_model) -> None:
    admin = django_user_model.objects.create_user("ra", "ra@test.kz", "x")
    draft = ruleset_import(document=new_version(), created_by=admin)
    draft.document["parameters"]["subsistence_minimum"]["2027"] = 53000
    draft.full_clean()
    draft.save()
    assert draft.document_sha256 == document_sha256(draft.document)

    ruleset_publish(ruleset=draft, effective_from=dt.date(2026, 10, 1), published_by=admin)
    assert draft.status == RuleSetStatus.PUBLISHED
    assert draft.effective_from == dt.date(2026, 10, 1)
    assert draft.document["effective_from"] == "2026-10-01"
    assert draft.published_by == admin
    assert ruleset_in_force(on=dt.date(2026, 9, 30)).version == DEFAULT
    assert ruleset_in_force(on=dt.date(2026, 10, 1)) == draft

    with pytest.raises(ValidationError):
        ruleset_publish(ruleset=draft, effective_from=dt.date(2026, 11, 1))
    draft.document["parameters"]["subsistence_minimum"]["2027"] = 1
    with pytest.raises(ValidationError):
        draft.save()


def test_it_refuses_two_published_rule_sets_from_the_same_date() -> None:
    draft = ruleset_import(document=new_version())
    with pytest.raises(ValidationError):
        ruleset_publish(ruleset=draft, effective_from=dt.date(2025, 9, 1))
    draft.refresh_from_db()
    assert draft.status == RuleSetStatus.DRAFT


def test_it_compiles_each_rule_set_once_per_document() -> None:
    ruleset = ruleset_by_version(version=DEFAULT)
    first = compiled_ruleset(ruleset)
    assert compiled_ruleset(ruleset_by_version(version=DEFAULT)) is first
    draft = ruleset_import(document=new_version())
    compiled = compiled_ruleset(draft)
    assert compiled.version == "KZ-2026.2-test"
    draft.document["high_welfare"]["markers"][-1]["value"] = "5"
    assert compiled_ruleset(draft) is not compiled
    assert compiled_ruleset(draft).markers[-1].threshold == 5


# --------------------------------------------------------------------------- assessments


def test_it_stores_the_frozen_card_its_hash_the_result_and_the_trace() -> None:
    doc = boundary_card()
    assessment = assessment_create(card_doc=doc)
    assessment.refresh_from_db()
    assert assessment.ruleset.version == DEFAULT
    assert assessment.ruleset_version == DEFAULT
    assert assessment.card == doc
    assert assessment.card_sha256 == card_sha256(doc)
    assert document_sha256(assessment.card) == assessment.card_sha256
    assert (assessment.category, assessment.high_welfare, assessment.markers) == (5, False, [])
    result = score_card_document(card_doc=doc, ruleset=assessment.ruleset)
    assert engine.Assessment.from_dict(assessment.trace) == result
    assert assessment.trace == result.to_dict()
    assert assessment.previous is None
    assert assessment.public_id is not None


def test_it_accepts_a_card_as_json_text() -> None:
    doc = b.card()
    assessment = assessment_create(card_doc=canonical_json(doc).decode())
    assert assessment.card == doc
    assert assessment.card_sha256 == card_sha256(doc)


def test_it_links_a_re_scoring_to_the_previous_assessment_and_overwrites_nothing() -> None:
    doc = boundary_card()
    first = assessment_create(card_doc=doc)
    draft = ruleset_import(document=new_version())
    second = assessment_create(card_doc=doc, ruleset=draft, previous=first)
    third = assessment_create(card_doc=doc, previous=second)
    assert second.previous == first
    assert (second.category, second.high_welfare, second.markers) == (6, True, ["income_ratio"])
    assert second.ruleset_version == "KZ-2026.2-test"
    assert assessment_chain(assessment=third) == [third, second, first]
    assert assessment_chain(assessment=first) == [first]
    first.refresh_from_db()
    assert first.category == 5
    assert list(first.successors.all()) == [second]
    assert Assessment.objects.count() == 3


def test_it_uses_the_rule_set_in_force_on_the_given_date() -> None:
    draft = ruleset_import(document=new_version())
    ruleset_publish(ruleset=draft, effective_from=dt.date(2026, 10, 1))
    before = assessment_create(card_doc=boundary_card(), on=dt.date(2026, 9, 30))
    after = assessment_create(card_doc=boundary_card(), on=dt.date(2026, 10, 1))
    assert (before.ruleset_version, before.category) == (DEFAULT, 5)
    assert (after.ruleset_version, after.category) == ("KZ-2026.2-test", 6)


def test_it_saves_nothing_for_an_invalid_card_or_a_year_without_pm() -> None:
    doc = b.card()
    doc["members"][0]["iin"] = doc["members"][0]["iin"][:11] + str(
        (int(doc["members"][0]["iin"][11]) + 1) % 10
    )
    with pytest.raises(CardError) as exc:
        assessment_create(card_doc=doc)
    assert exc.value.paths == ["members[0].iin"]
    with pytest.raises(MissingParameterError):
        assessment_create(card_doc=b.card(as_of=dt.date(2023, 3, 1)))
    with pytest.raises(RuleSet.DoesNotExist):
        assessment_create(card_doc=b.card(), on=dt.date(2020, 1, 1))
    assert Assessment.objects.count() == 0


def test_it_refuses_to_update_or_delete_an_assessment() -> None:
    assessment = assessment_create(card_doc=b.card())
    assert assessment.category == 4
    assessment.category = 1
    with pytest.raises(ValidationError):
        assessment.save()
    with pytest.raises(ValidationError):
        assessment.delete()
    rows = Assessment.objects.filter(pk=assessment.pk)
    _fails_in_db(lambda: rows.update(category=1))
    _fails_in_db(lambda: rows.delete())
    assessment.refresh_from_db()
    assert assessment.category == 4


def test_it_keeps_the_category_within_1_to_6_and_6_only_with_markers() -> None:
    valid = assessment_create(card_doc=b.card())
    fields = {
        "card": valid.card,
        "card_sha256": valid.card_sha256,
        "ruleset": valid.ruleset,
        "ruleset_version": valid.ruleset_version,
        "trace": valid.trace,
        "markers": [],
    }
    for category, high in ((7, True), (0, False), (6, False), (3, True)):
        bad = Assessment(category=category, high_welfare=high, **fields)
        with pytest.raises(ValidationError):
            bad.full_clean()
        _fails_in_db(lambda bad=bad: Assessment.objects.bulk_create([bad]))
    bad = Assessment(category=3, high_welfare=False, **{**fields, "card_sha256": "0" * 64})
    with pytest.raises(ValidationError):
        bad.full_clean()


# --------------------------------------------------------------------------- admin


def test_it_shows_rule_sets_and_assessments_read_only_in_the_admin_without_family_data(
    client_for,
) -> None:
    from django.urls import reverse

    doc = b.card()
    assessment = assessment_create(card_doc=doc)
    ruleset = ruleset_by_version(version=DEFAULT)
    client = client_for("superuser")

    page = client.get(reverse("admin:scoring_ruleset_changelist")).content.decode()
    assert DEFAULT in page and "2025" in page
    page = client.get(reverse("admin:scoring_ruleset_change", args=[ruleset.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # view only

    page = client.get(reverse("admin:scoring_assessment_changelist")).content.decode()
    assert str(assessment.public_id) in page
    detail = client.get(reverse("admin:scoring_assessment_change", args=[assessment.pk]))
    assert detail.status_code == 200
    for text in (page, detail.content.decode()):
        assert doc["members"][0]["iin"] not in text
        assert str(doc["members"][0]["incomes"]["salary"]) not in text
    assert client.get(reverse("admin:scoring_assessment_add")).status_code == 403
