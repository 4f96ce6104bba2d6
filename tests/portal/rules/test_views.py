"""The /rules/ pages: the editor with per-field messages, golden cases, approval, publishing,
the diff, and who may see what."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.forms import BaseFormSet
from django.urls import reverse
from django.utils import timezone

from portal.rules import services
from portal.rules.forms import RuleSetEditor
from schools.scope import scope_for
from scoring.models import GoldenCase, RuleSet

EXAMPLES = Path(__file__).resolve().parents[3] / "scoring" / "data" / "examples"


def _form_data(form, data: dict) -> None:
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        key = form.add_prefix(name)
        if isinstance(value, list):
            data[key] = value
        elif value is None or value is False:
            continue
        else:
            data[key] = str(value)


def editor_data(document: dict) -> dict:
    """POST data equal to the editor's initial state for ``document``."""
    editor = RuleSetEditor(document)
    data: dict = {}
    for part in editor.all_forms():
        if isinstance(part, BaseFormSet):
            _form_data(part.management_form, data)
            for form in part.forms[: len(part.initial_forms)]:
                _form_data(form, data)
        else:
            _form_data(part, data)
    return data


@pytest.fixture
def draft(world):
    admin = world.user("rules_admin")
    return services.ruleset_draft_create(
        scope=scope_for(admin),
        actor=admin,
        source=RuleSet.objects.get(version="KZ-2026.1"),
        version="KZ-2027.1",
    )


def post_edit(client, draft, **changes):
    data = editor_data(draft.document)
    data.update(changes)
    return client.post(reverse("rules:ruleset-edit", kwargs={"public_id": draft.public_id}), data)


def test_it_lists_versions_with_their_status(client_for, draft):
    response = client_for("rules_admin").get(reverse("rules:ruleset-list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "KZ-2026.1" in body and "KZ-2027.1" in body and "действует" in body


def test_it_creates_a_draft_from_a_version_and_validates_the_name(client_for, world):
    c = client_for("rules_admin")
    source = RuleSet.objects.get(version="KZ-2026.1")
    r = c.post(reverse("rules:ruleset-create"), {"source": source.public_id, "version": "KZ 2027"})
    assert r.status_code == 302
    assert not RuleSet.objects.filter(version="KZ 2027").exists()
    r = c.post(
        reverse("rules:ruleset-create"), {"source": source.public_id, "version": "KZ-2026.1"}
    )
    assert not RuleSet.objects.filter(status="draft").exists()
    page = c.get(reverse("rules:ruleset-list")).content.decode()
    assert "уже есть" in page
    r = c.post(
        reverse("rules:ruleset-create"), {"source": source.public_id, "version": "KZ-2027.1"}
    )
    draft = RuleSet.objects.get(version="KZ-2027.1")
    assert r["Location"] == reverse("rules:ruleset-edit", kwargs={"public_id": draft.public_id})


def test_it_renders_the_editor_as_forms_not_raw_json(client_for, draft):
    r = client_for("rules_admin").get(
        reverse("rules:ruleset-edit", kwargs={"public_id": draft.public_id})
    )
    body = r.content.decode()
    assert r.status_code == 200
    for name in (
        "years-0-subsistence_minimum",
        "bands-4-income_ratio_below",
        "markers-0-op",
        "vuln-0-points",
        "wealth-0-value",
        "shift-0-net_at_least",
        "catlabels-0-kk",
        "critlabels-22-en",
        "hw-mode",
        "params-hidden_income_factor",
    ):
        assert f'name="{name}"' in body, name
    assert "<textarea" not in body


def test_it_saves_a_new_year_and_threshold(client_for, draft):
    r = post_edit(
        client_for("rules_admin"),
        draft,
        **{
            "years-3-year": "2027",
            "years-3-subsistence_minimum": "55000",
            "years-3-minimum_wage": "90000",
            "years-TOTAL_FORMS": "4",
            "hw-min_count": "1",
            "markers-3-value": "5",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    draft.refresh_from_db()
    assert draft.document["parameters"]["subsistence_minimum"]["2027"] == 55000
    assert draft.document["high_welfare"]["markers"][3]["value"] == "5"
    assert draft.events.filter(action="saved").exists()


def test_it_keeps_the_document_when_nothing_changed(client_for, draft):
    before = draft.document_sha256
    r = post_edit(client_for("rules_admin"), draft)
    assert r.status_code == 302
    draft.refresh_from_db()
    assert draft.document_sha256 == before
    assert not draft.events.filter(action="saved").exists()


def _error_of(response, field: str) -> str:
    body = response.content.decode()
    marker = f'data-testid="error-{field}">'
    assert marker in body, f"no error shown for {field}"
    return body.split(marker, 1)[1].split("<", 1)[0]


def test_it_refuses_a_band_table_with_a_gap(client_for, draft):
    r = post_edit(client_for("rules_admin"), draft, **{"bands-2-ratio_from": "1.2"})
    assert r.status_code == 400
    assert "Разрыв" in _error_of(r, "bands-2-ratio_from")
    r = post_edit(client_for("rules_admin"), draft, **{"bands-2-ratio_from": "0.8"})
    assert "Перекрытие" in _error_of(r, "bands-2-ratio_from")
    r = post_edit(
        client_for("rules_admin"),
        draft,
        **{"bands-2-income_ratio_below": "0.9", "bands-3-ratio_from": "0.9"},
    )
    assert "больше границы предыдущего" in _error_of(r, "bands-2-income_ratio_below")
    draft.refresh_from_db()
    assert draft.document["bands"][2]["income_ratio_below"] == "2"


def test_it_refuses_a_negative_threshold(client_for, draft):
    r = post_edit(client_for("rules_admin"), draft, **{"markers-1-value": "-2"})
    assert r.status_code == 400
    assert "неотрицательным" in _error_of(r, "markers-1-value")
    r = post_edit(client_for("rules_admin"), draft, **{"years-0-subsistence_minimum": "-5"})
    assert "не меньше 1" in _error_of(r, "years-0-subsistence_minimum")


def test_it_refuses_a_missing_kazakh_label(client_for, draft):
    r = post_edit(client_for("rules_admin"), draft, **{"catlabels-1-kk": " "})
    assert r.status_code == 400
    assert _error_of(r, "catlabels-1-kk") == "Заполните название на казахском языке."
    r = post_edit(client_for("rules_admin"), draft, **{"critlabels-20-kk": ""})
    assert _error_of(r, "critlabels-20-kk")


def test_it_refuses_a_wrong_value_for_a_boolean_criterion(client_for, draft):
    # vulnerability_points[4] is single_parent (boolean): a number is refused on that field
    r = post_edit(client_for("rules_admin"), draft, **{"vuln-4-value": "2", "vuln-4-op": ">="})
    assert r.status_code == 400
    assert _error_of(r, "vuln-4-value") or _error_of(r, "vuln-4-op")


def test_it_shows_published_versions_read_only(client_for, world):
    published = RuleSet.objects.get(version="KZ-2026.1")
    c = client_for("rules_admin")
    r = c.get(reverse("rules:ruleset-edit", kwargs={"public_id": published.public_id}))
    assert r.status_code == 302
    assert r["Location"] == reverse(
        "rules:ruleset-detail", kwargs={"public_id": published.public_id}
    )


def test_it_refuses_a_golden_upload_that_is_not_a_card(client_for, world):
    c = client_for("rules_admin")
    bad = json.loads((EXAMPLES / "01-extreme-need.json").read_text())
    del bad["members"]
    upload = io.BytesIO(json.dumps(bad).encode())
    upload.name = "bad.json"
    r = c.post(
        reverse("rules:golden-list"),
        {
            "name": "bad",
            "card_file": upload,
            "expected_category": "1",
            "expected_high_welfare": "unknown",
        },
    )
    assert r.status_code == 400
    assert "Это не карта семьи" in _error_of(r, "card_file")
    assert not GoldenCase.objects.filter(name="bad").exists()
    good = io.BytesIO((EXAMPLES / "03-need.json").read_bytes())
    good.name = "good.json"
    r = c.post(
        reverse("rules:golden-list"),
        {
            "name": "good",
            "card_file": good,
            "expected_category": "3",
            "expected_high_welfare": "false",
        },
    )
    assert r.status_code == 302
    assert GoldenCase.objects.get(name="good").expected_high_welfare is False


def test_it_refuses_own_approval_and_past_dates_with_messages(client_for, world, draft):
    author = client_for("rules_admin")
    url = reverse("rules:ruleset-approve", kwargs={"public_id": draft.public_id})
    r = author.post(url, follow=True)
    assert "Автор черновика не может одобрить" in r.content.decode()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    r = client_for("superuser").post(
        reverse("rules:ruleset-publish", kwargs={"public_id": draft.public_id}),
        {"effective_from": yesterday.isoformat()},
        follow=True,
    )
    body = r.content.decode()
    assert "Публикация отклонена" in body and "не может быть в прошлом" in body


def test_it_shows_the_gates_golden_results_and_history(client_for, draft):
    r = client_for("rules_admin").get(
        reverse("rules:ruleset-detail", kwargs={"public_id": draft.public_id})
    )
    body = r.content.decode()
    assert "Не выполнен предпросмотр влияния" in body
    assert "Нет одобрения второго администратора" in body
    assert "06-two-homes" in body and "все пройдены" in body
    assert "черновик создан" in body


def test_it_diffs_two_versions_in_a_page(client_for, draft):
    admin = draft.created_by
    doc = json.loads(json.dumps(draft.document))
    doc["parameters"]["subsistence_minimum"]["2027"] = 55000
    services.ruleset_draft_save(scope=scope_for(admin), actor=admin, ruleset=draft, document=doc)
    r = client_for("rules_admin").get(
        reverse("rules:ruleset-diff"), {"old": "KZ-2026.1", "new": "KZ-2027.1"}
    )
    body = r.content.decode()
    assert 'data-path="parameters.subsistence_minimum.2027" data-change="added"' in body
    assert 'data-path="version" data-change="changed"' in body
    assert 'data-path="bands[0].income_ratio_below"' not in body


def test_it_shows_preview_progress_and_result(client_for, draft):
    admin = draft.created_by
    preview = services.impact_preview_start(scope=scope_for(admin), actor=admin, ruleset=draft)
    c = client_for("rules_admin")
    r = c.get(reverse("rules:preview-progress", kwargs={"public_id": preview.public_id}))
    assert 'hx-trigger="every 1s"' in r.content.decode()
    services.impact_preview_run(preview_id=preview.pk)
    r = c.get(
        reverse("rules:preview-progress", kwargs={"public_id": preview.public_id}),
        HTTP_HX_REQUEST="true",
    )
    assert r["HX-Refresh"] == "true"
    r = c.get(reverse("rules:preview-detail", kwargs={"public_id": preview.public_id}))
    assert 'data-testid="preview-matrix"' in r.content.decode()


@pytest.mark.parametrize("persona", ["pedagogue_a", "region_analyst", "auditor"])
def test_it_refuses_other_roles_on_rules_pages(client_for, draft, persona):
    c = client_for(persona)
    for url in (
        reverse("rules:ruleset-list"),
        reverse("rules:ruleset-detail", kwargs={"public_id": draft.public_id}),
        reverse("rules:ruleset-edit", kwargs={"public_id": draft.public_id}),
        reverse("rules:golden-list"),
    ):
        assert c.get(url).status_code == 403, url
    r = c.post(reverse("rules:ruleset-approve", kwargs={"public_id": draft.public_id}))
    assert r.status_code == 403
