"""Writes of rules administration: drafts, golden cases, approvals, impact previews, publishing.

Every write checks the role (``scope.is_rules_admin``), is atomic, records a
:class:`scoring.models.RuleSetEvent` (the rule set's history) and an audit event through
:func:`portal.audit.services.audit_record` in the same transaction. Side effects (Celery) run on commit.
Audit details hold versions, hashes, counts and paths — never family data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.requests.models import AidRequest
from portal.requests.models import Status as RequestStatus
from portal.requests.services import aid_request_rescore
from portal.rules.diff import ruleset_diff
from portal.rules.models import (
    RESCORE_ACTIVE_STATUSES,
    BackgroundRun,
    BackgroundRunStatus,
    ImpactPreview,
    ImpactPreviewStatus,
    RescoreBatch,
    RescoreBatchStatus,
)
from schools.scope import Scope, require
from scoring import services as scoring_services
from scoring.card import canonical_json, parse_card
from scoring.governance import golden_cases_run
from scoring.jsondoc import load_json_document
from scoring.models import (
    Assessment,
    GoldenCase,
    RuleSet,
    RuleSetApproval,
    RuleSetEvent,
    RuleSetStatus,
    document_sha256,
)
from scoring.ruleset import compile_ruleset

__all__ = [
    "golden_case_create",
    "golden_case_set_active",
    "impact_preview_run",
    "impact_preview_start",
    "ruleset_approve",
    "ruleset_draft_create",
    "ruleset_draft_save",
    "ruleset_publish_governed",
    "ruleset_publish_problems",
    "rules_rescore_run",
    "rules_rescore_start",
]

log = logging.getLogger(__name__)


def _require_rules_admin(scope: Scope) -> None:
    require(scope, "can_admin_rules")


def _event(ruleset: RuleSet, action: str, actor: Any, **detail: Any) -> RuleSetEvent:
    event = RuleSetEvent(
        ruleset=ruleset,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        document_sha256=ruleset.document_sha256,
        detail=detail,
    )
    event.full_clean()
    event.save()
    return event


def _audit(
    scope: Scope | None, actor: Any, action: str, object_type: str, object_id: Any, **detail: Any
) -> None:
    audit_record(
        action=action,
        scope=scope,
        actor=actor,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
    )


def _locked_draft(ruleset: RuleSet) -> RuleSet:
    locked = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    if locked.status != RuleSetStatus.DRAFT:
        raise ValidationError(
            _("Набор правил «%(version)s» опубликован и неизменяем: создайте новый черновик.")
            % {"version": locked.version},
            code="not_draft",
        )
    return locked


# --------------------------------------------------------------------------- drafts


@transaction.atomic
def ruleset_draft_create(*, scope: Scope, actor: Any, source: RuleSet, version: str) -> RuleSet:
    """A new draft named ``version`` with ``source``'s document (any status).

    Raises :class:`scoring.ruleset.RuleSetError` when the name is taken or invalid.
    """
    _require_rules_admin(scope)
    document = json.loads(canonical_json(source.document))
    document["version"] = version
    document["effective_from"] = timezone.localdate().isoformat()
    draft = scoring_services.ruleset_import(document=document, created_by=actor)
    _event(draft, RuleSetEvent.Action.CREATED, actor, source_version=source.version)
    _audit(
        scope,
        actor,
        "rules.draft_create",
        "ruleset",
        draft.public_id,
        version=draft.version,
        source_version=source.version,
        sha256=draft.document_sha256,
    )
    return draft


@transaction.atomic
def ruleset_draft_save(
    *, scope: Scope, actor: Any, ruleset: RuleSet, document: dict[str, Any]
) -> tuple[RuleSet, bool]:
    """Replace a draft's document. Returns ``(draft, changed)``.

    The version and ``effective_from`` of the draft are kept (publishing sets the date).
    Raises ``ValidationError`` for a published rule set and
    :class:`scoring.ruleset.RuleSetError` for an invalid document. A change voids earlier
    approvals and previews (they name the old document's SHA-256).
    """
    _require_rules_admin(scope)
    locked = _locked_draft(ruleset)
    document = json.loads(canonical_json(document))
    document["version"] = locked.version
    document["effective_from"] = locked.effective_from.isoformat()
    compiled = compile_ruleset(document)
    new_sha = document_sha256(document)
    if new_sha == locked.document_sha256:
        return locked, False
    old_doc, old_sha = locked.document, locked.document_sha256
    paths = [row.path for row in ruleset_diff(old_doc, document)]
    locked.document = document
    locked.full_clean()
    locked.save(update_fields=["document"])
    voided = RuleSetApproval.objects.filter(ruleset=locked, document_sha256=old_sha).count()
    golden = golden_cases_run(compiled)
    summary = {
        "changed_paths": paths[:100],
        "changed_count": len(paths),
        "previous_sha256": old_sha,
        "golden_passed": sum(r.passed for r in golden),
        "golden_failed": sum(not r.passed for r in golden),
        "approvals_voided": voided,
    }
    _event(locked, RuleSetEvent.Action.SAVED, actor, **summary)
    _audit(
        scope,
        actor,
        "rules.draft_save",
        "ruleset",
        locked.public_id,
        version=locked.version,
        sha256=locked.document_sha256,
        **summary,
    )
    ruleset.refresh_from_db()
    return locked, True


# --------------------------------------------------------------------------- golden cases


@transaction.atomic
def golden_case_create(
    *,
    scope: Scope,
    actor: Any,
    name: str,
    expected_category: int,
    expected_high_welfare: bool | None = None,
    card: dict[str, Any] | None = None,
    assessment_public_id: Any = None,
) -> GoldenCase:
    """A golden case from an uploaded card document or a stored assessment's frozen card.

    Raises :class:`scoring.card.CardError` for an invalid card and ``ValidationError`` for an
    unknown assessment or inconsistent expectations.
    """
    _require_rules_admin(scope)
    shift_days = None
    if assessment_public_id is not None:
        # A deliberate cross-school read by a rules administrator: only a de-identified copy
        # of the frozen card is kept (real identifiers never reach the golden case).
        stored = (
            Assessment.objects.filter(public_id=assessment_public_id)
            .values("card", "category", "high_welfare")
            .first()
        )
        if stored is None:
            raise ValidationError(
                {"assessment_id": _("Оценка с таким идентификатором не найдена.")}
            )
        parse_card(stored["card"])
        card, shift_days = _deidentified_copy(stored["card"])
        source = GOLDEN_SOURCE_DEIDENTIFIED
    else:
        source = "upload"
    if card is None:
        raise ValidationError(_("Нужна карта семьи."))
    parse_card(card)  # CardError with paths when not a valid family-card/1
    case = GoldenCase(
        name=name,
        # exact: a number a float cannot hold (1e-400 m²) keeps its digits
        card=load_json_document(canonical_json(card), max_bytes=None),
        expected_category=expected_category,
        expected_high_welfare=expected_high_welfare,
        source=source,
        created_by=actor,
    )
    case.full_clean()
    case.save()
    _audit(
        scope,
        actor,
        "rules.golden_create",
        "golden_case",
        case.public_id,
        source=source,
        expected_category=expected_category,
        assessment=str(assessment_public_id) if assessment_public_id else "",
        deidentified=shift_days is not None,
    )
    return case


GOLDEN_SOURCE_DEIDENTIFIED = "assessment-deidentified"


def _deidentified_copy(card: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """De-identify, then prove with every published rule set that nothing scoring-relevant
    moved (same category, flag and criteria values); refuse the copy otherwise."""
    import secrets

    from portal.rules.deidentify import DeidentifyError, card_deidentify
    from scoring.engine import assess

    try:
        copy_doc, days = card_deidentify(card, rng=random.Random(secrets.randbits(64)))  # noqa: S311
    except DeidentifyError:
        raise ValidationError(
            {"assessment_id": _("Эту карту не удалось обезличить без изменения результата.")}
        ) from None
    original, deidentified = parse_card(card), parse_card(copy_doc)
    for ruleset in RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED):
        compiled = compile_ruleset(ruleset.document)
        try:
            a, b = assess(original, compiled), assess(deidentified, compiled)
        except Exception:  # noqa: BLE001, S112 - a version that cannot score this card's year
            continue
        if (a.category, a.high_welfare, a.to_dict().get("criteria")) != (
            b.category,
            b.high_welfare,
            b.to_dict().get("criteria"),
        ):
            raise ValidationError(
                {"assessment_id": _("Эту карту не удалось обезличить без изменения результата.")}
            )
    return copy_doc, days


@transaction.atomic
def golden_case_set_active(
    *, scope: Scope, actor: Any, case: GoldenCase, active: bool
) -> GoldenCase:
    _require_rules_admin(scope)
    case = GoldenCase.objects.select_for_update().get(pk=case.pk)
    if case.active != active:
        case.active = active
        case.save(update_fields=["active"])
        _audit(scope, actor, "rules.golden_toggle", "golden_case", case.public_id, active=active)
    return case


# --------------------------------------------------------------------------- approval


@transaction.atomic
def ruleset_approve(*, scope: Scope, actor: Any, ruleset: RuleSet) -> RuleSetApproval:
    """A second administrator approves the draft's current document.

    Refused for the author, for a second approval of the same document by the same person,
    and for a published rule set.
    """
    _require_rules_admin(scope)
    locked = _locked_draft(ruleset)
    if locked.created_by_id is not None and locked.created_by_id == actor.pk:
        raise ValidationError(
            _(
                "Автор черновика не может одобрить его сам: нужно одобрение второго администратора правил."
            ),
            code="own_draft",
        )
    if RuleSetApproval.objects.filter(
        ruleset=locked, approved_by=actor, document_sha256=locked.document_sha256
    ).exists():
        raise ValidationError(
            _("Вы уже одобрили эту редакцию черновика; повторное одобрение не требуется."),
            code="already_approved",
        )
    approval = RuleSetApproval(
        ruleset=locked, approved_by=actor, document_sha256=locked.document_sha256
    )
    try:
        with transaction.atomic():
            approval.save()
    except IntegrityError:
        raise ValidationError(
            _("Вы уже одобрили эту редакцию черновика; повторное одобрение не требуется."),
            code="already_approved",
        ) from None
    _event(locked, RuleSetEvent.Action.APPROVED, actor)
    _audit(
        scope,
        actor,
        "rules.approve",
        "ruleset",
        locked.public_id,
        version=locked.version,
        sha256=locked.document_sha256,
    )
    return approval


# --------------------------------------------------------------------------- impact preview


def _default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=365), today


@transaction.atomic
def impact_preview_start(
    *,
    scope: Scope,
    actor: Any,
    ruleset: RuleSet,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> ImpactPreview:
    """Queue a shadow scoring of the period's assessments with the draft's current document."""
    _require_rules_admin(scope)
    locked = _locked_draft(ruleset)
    default_from, default_to = _default_period(timezone.localdate())
    preview = ImpactPreview(
        ruleset=locked,
        document_sha256=locked.document_sha256,
        period_from=period_from or default_from,
        period_to=period_to or default_to,
        created_by=actor,
    )
    preview.full_clean()
    preview.save()
    _event(
        locked,
        RuleSetEvent.Action.PREVIEWED,
        actor,
        preview=str(preview.public_id),
        period_from=preview.period_from.isoformat(),
        period_to=preview.period_to.isoformat(),
    )
    _audit(
        scope,
        actor,
        "rules.preview_start",
        "impact_preview",
        preview.public_id,
        version=locked.version,
        sha256=locked.document_sha256,
        period_from=preview.period_from.isoformat(),
        period_to=preview.period_to.isoformat(),
    )
    from portal.rules import tasks

    transaction.on_commit(lambda: tasks.rules_impact_preview.delay(preview.pk))
    return preview


# --------------------------------------------------------------------------- background runs
# One life for every BackgroundRun (an impact preview, a re-score batch): claim → progress →
# done | failed. A finished run is left alone; a running one is taken over when its worker
# must be dead (older than its task's hard time limit) or, for kinds that are idempotent per
# item (the re-score), always — that is a redelivered message of the same run.


def _run_claim(model: type[BackgroundRun], run_id: int) -> tuple[BackgroundRun, bool]:
    """Lock the run and mark it running; returns (run, claimed). Not claimed: leave it."""
    with transaction.atomic():
        run = model.objects.select_for_update().select_related("ruleset").get(pk=run_id)
        if run.is_finished:
            return run, False
        if run.status == BackgroundRunStatus.RUNNING and not (
            getattr(model, "RESUME_RUNNING", False) or run.is_dead()
        ):
            return run, False
        run.status = BackgroundRunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    return run, True


def _run_update(run: BackgroundRun, **fields: Any) -> None:
    BackgroundRun.objects.filter(pk=run.pk).update(**fields)


def _run_end(run: BackgroundRun, status: str, **fields: Any) -> BackgroundRun:
    _run_update(run, status=status, finished_at=timezone.now(), **fields)
    run.refresh_from_db()
    return run


# The hard time limit of the task `portal.rules_impact_preview` (settings).
PREVIEW_TASK_TIME_LIMIT = dt.timedelta(
    seconds=settings.CELERY_TASK_TIME_LIMITS["portal.rules_impact_preview"][1]
)


def impact_preview_run(*, preview_id: int, workers: int | None = None) -> ImpactPreview:
    """Run a queued preview (idempotent: a finished or running preview is left alone)."""
    from portal.rules.impact import impact_compute

    preview, claimed = _run_claim(ImpactPreview, preview_id)
    if not claimed:
        return preview
    document = preview.ruleset.document
    if document_sha256(document) != preview.document_sha256:
        return _run_end(
            preview,
            ImpactPreviewStatus.FAILED,
            error=_("Черновик изменился после запуска; запустите предпросмотр снова."),
        )
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = timezone.now().timestamp()
        if done == 0 or done >= total or now - last[0] >= 0.5:
            last[0] = now
            _run_update(preview, processed=done, total=total)

    try:
        result = impact_compute(
            document=document,
            period_from=preview.period_from,
            period_to=preview.period_to,
            workers=workers,
            progress=progress,
        )
    except Exception as exc:  # a failed preview must say so, not hang in "running"
        log.exception("impact preview %s failed", preview.pk)
        return _run_end(
            preview,
            ImpactPreviewStatus.FAILED,
            error=_("Предпросмотр не удался: %(error)s") % {"error": type(exc).__name__},
        )
    return _run_end(
        preview,
        ImpactPreviewStatus.DONE,
        result=result,
        total=result["total"],
        processed=result["total"],
    )


# --------------------------------------------------------------------------- publishing


def ruleset_publish_problems(ruleset: RuleSet) -> list[str]:
    """What still stands between a draft and publication (empty list: it may be published)."""
    if ruleset.status != RuleSetStatus.DRAFT:
        return [_("Опубликовать можно только черновик.")]
    problems: list[str] = []
    compiled = compile_ruleset(ruleset.document)
    failed = [r for r in golden_cases_run(compiled) if not r.passed]
    if failed:
        names = ", ".join(r.case.name for r in failed[:10])
        problems.append(
            _(
                "Не проходят эталонные случаи (%(count)s): %(names)s. Исправьте правила или ожидания."
            )
            % {"count": len(failed), "names": names}
        )
    sha = ruleset.document_sha256
    previews = ImpactPreview.objects.filter(ruleset=ruleset)
    if not previews.filter(document_sha256=sha, status=ImpactPreviewStatus.DONE).exists():
        if previews.filter(status=ImpactPreviewStatus.DONE).exists():
            problems.append(
                _(
                    "Предпросмотр влияния был выполнен для прежней редакции черновика; запустите его для текущей."
                )
            )
        else:
            problems.append(_("Не выполнен предпросмотр влияния для текущей редакции черновика."))
    approvals = RuleSetApproval.objects.filter(ruleset=ruleset, document_sha256=sha)
    if ruleset.created_by_id is not None:
        approvals = approvals.exclude(approved_by_id=ruleset.created_by_id)
    if not approvals.exists():
        if RuleSetApproval.objects.filter(ruleset=ruleset).exists():
            problems.append(
                _(
                    "Одобрение относится к прежней редакции черновика: нужно одобрение второго администратора для текущей."
                )
            )
        else:
            problems.append(_("Нет одобрения второго администратора правил (не автора черновика)."))
    return problems


@transaction.atomic
def ruleset_publish_governed(
    *,
    scope: Scope,
    actor: Any,
    ruleset: RuleSet,
    effective_from: dt.date,
    today: dt.date | None = None,
) -> RuleSet:
    """Publish a draft from ``effective_from`` (today or later) once every gate is passed.

    Raises ``ValidationError`` listing what to fix: a date in the past, failing golden cases,
    no impact preview of the current document, no valid approval by a second administrator.
    """
    _require_rules_admin(scope)
    locked = _locked_draft(ruleset)
    day = today or timezone.localdate()
    if effective_from < day:
        raise ValidationError(
            {
                "effective_from": _(
                    "Дата начала действия не может быть в прошлом: укажите сегодняшнюю (%(today)s) или более позднюю."
                )
                % {"today": day.isoformat()}
            },
            code="date_past",
        )
    problems = ruleset_publish_problems(locked)
    if problems:
        raise ValidationError(problems, code="gates")
    before = locked.document_sha256
    published = scoring_services.ruleset_publish(
        ruleset=locked, effective_from=effective_from, published_by=actor
    )
    _event(
        published,
        RuleSetEvent.Action.PUBLISHED,
        actor,
        effective_from=effective_from.isoformat(),
        approved_sha256=before,
    )
    _audit(
        scope,
        actor,
        "rules.publish",
        "ruleset",
        published.public_id,
        version=published.version,
        sha256=published.document_sha256,
        effective_from=effective_from.isoformat(),
    )
    ruleset.refresh_from_db()
    return published


# --------------------------------------------------------------------------- re-scoring

RESCORE_CHUNK = 200


@transaction.atomic
def rules_rescore_start(*, scope: Scope, ruleset: RuleSet, actor: Any = None) -> RescoreBatch:
    """Queue the re-scoring of the open (``scored``) requests with a published rule set.

    Raises ``ValidationError`` for a rule set that is not published and when a batch for it is
    already queued or running.
    """
    _require_rules_admin(scope)
    locked = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    if locked.status != RuleSetStatus.PUBLISHED:
        raise ValidationError(
            _("Пересчитать заявки можно только по опубликованному набору правил."),
            code="not_published",
        )
    if RescoreBatch.objects.filter(ruleset=locked, status__in=RESCORE_ACTIVE_STATUSES).exists():
        raise ValidationError(
            _("Пересчёт открытых заявок по этой версии уже идёт; дождитесь его завершения."),
            code="running",
        )
    batch = RescoreBatch(ruleset=locked, started_by_id=getattr(actor, "pk", None) or scope.user_id)
    batch.full_clean(exclude=["started_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:  # a concurrent start won the race (one active batch per rule set)
        raise ValidationError(
            _("Пересчёт открытых заявок по этой версии уже идёт; дождитесь его завершения."),
            code="running",
        ) from None
    _audit(
        scope,
        actor,
        "rules.rescore_start",
        "rescore_batch",
        batch.public_id,
        version=locked.version,
        sha256=locked.document_sha256,
    )
    from portal.rules import tasks

    transaction.on_commit(lambda: tasks.rules_rescore_open_requests.delay(batch.pk))
    return batch


def rules_rescore_run(*, batch_id: int, chunk_size: int = RESCORE_CHUNK) -> RescoreBatch:
    """Run a queued batch: each open request in its own short transaction, progress per chunk.

    A finished batch is left alone; a running one (a redelivered task) is resumed: requests
    already re-scored with the rule set are skipped.
    """
    batch, claimed = _run_claim(RescoreBatch, batch_id)
    if not claimed:
        return batch
    ruleset = batch.ruleset
    actor = batch.started_by
    done = rescored = changed = failed = 0
    try:
        ids = list(
            AidRequest.objects.unscoped()
            .filter(status=RequestStatus.SCORED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        _run_update(batch, total=len(ids), processed=0)
        for start in range(0, len(ids), chunk_size):
            for request_id in ids[start : start + chunk_size]:
                outcome, category_changed = aid_request_rescore(
                    request_id=request_id,
                    ruleset=ruleset,
                    actor=actor,
                    batch=str(batch.public_id),
                )
                done += 1
                rescored += outcome == "rescored"
                changed += category_changed
                failed += outcome == "failed"
            _run_update(batch, processed=done, rescored=rescored, changed=changed)
    except Exception as exc:  # a failed batch must say so, not hang in "running"
        log.exception("rescore batch %s failed", batch.pk)
        return _run_end(
            batch,
            RescoreBatchStatus.FAILED,
            processed=done,
            rescored=rescored,
            changed=changed,
            error=_("Пересчёт не удался: %(error)s") % {"error": type(exc).__name__},
        )
    batch = _run_end(
        batch,
        RescoreBatchStatus.DONE,
        processed=done,
        rescored=rescored,
        changed=changed,
        error=(
            _("Не удалось пересчитать заявок: %(count)s (нет параметров для года карты и т. п.).")
            % {"count": failed}
            if failed
            else ""
        ),
    )
    _audit(
        None,
        actor,
        "rules.rescore_done",
        "rescore_batch",
        batch.public_id,
        version=ruleset.version,
        total=done,
        rescored=rescored,
        changed=changed,
        failed=failed,
    )
    return batch
