"""Writes of the audit log: one function, :func:`audit_record`, with an enum of actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.audit.models import AuditEvent
from portal.dbrows import insert

if TYPE_CHECKING:
    from schools.scope import Scope


class AuditAction(models.TextChoices):
    """Every action the audit log records. ``audit_record`` refuses any other string."""

    AID_REQUEST_SUBMIT = "aid_request.submit", _("заявка подана")
    AID_REQUEST_BATCH_SUBMIT = "aid_request.batch_submit", _("загружен список класса")
    AID_REQUEST_SCORING_START = "aid_request.scoring_start", _("оценка заявки начата")
    AID_REQUEST_SCORED = "aid_request.scored", _("заявка оценена")
    AID_REQUEST_NEEDS_REVIEW = "aid_request.needs_review", _("заявка отправлена на проверку")
    AID_REQUEST_REQUEUE = "aid_request.requeue", _("заявка снова поставлена в очередь")
    AID_REQUEST_RESCORE = "aid_request.rescore", _("заявка пересчитана по новым правилам")
    AID_REQUEST_RESCORE_FAILED = (
        "aid_request.rescore_failed",
        _("пересчёт заявки по новым правилам не удался"),
    )
    AID_REQUEST_DECIDE = "aid_request.decide", _("решение по заявке принято")
    AID_REQUEST_CONTEST = "aid_request.contest", _("оценка заявки оспорена")
    AID_REQUEST_RESUBMIT = "aid_request.resubmit", _("заявка исправлена и подана снова")
    AID_REQUEST_WITHDRAW = "aid_request.withdraw", _("заявка отозвана")
    AID_REQUEST_SIGN = "aid_request.sign", _("решение подписано директором")
    AID_REQUEST_SIGNATURE_REFUSE = (
        "aid_request.signature_refuse",
        _("директор отказал в подписи решения"),
    )
    AID_REQUEST_VIEW = "aid_request.view", _("просмотр заявки")
    AID_REQUEST_LIST_VIEW = "aid_request.list_view", _("просмотр списка заявок")
    AUDIT_LOG_VIEW = "audit_log.view", _("просмотр журнала аудита")
    AUDIT_LOG_EXPORT = "audit_log.export", _("выгрузка журнала аудита")
    AUDIT_LOG_PERSON_VIEWS = (
        "audit_log.person_views",
        _("поиск всех просмотров данных человека"),
    )
    API_TOKEN_ISSUE = "api_token.issue", _("выдан токен API")
    API_TOKEN_SHOW = "api_token.show", _("показан токен API")
    API_TOKEN_REVOKE = "api_token.revoke", _("токен API отозван")
    MFA_TOTP_REPLACE = "mfa.totp_replace", _("приложение-аутентификатор заменено")
    ADMIN_VIEW = "admin.view", _("просмотр в панели администрирования")
    RULES_DRAFT_CREATE = "rules.draft_create", _("создан черновик правил")
    RULES_DRAFT_SAVE = "rules.draft_save", _("черновик правил изменён")
    RULES_GOLDEN_CREATE = "rules.golden_create", _("добавлен эталонный случай")
    RULES_GOLDEN_TOGGLE = "rules.golden_toggle", _("эталонный случай включён или выключен")
    RULES_GOLDEN_DEACTIVATE = "rules.golden_deactivate", _("эталонный случай выключен с причиной")
    RULES_APPROVE = "rules.approve", _("черновик правил одобрен")
    RULES_PREVIEW_START = "rules.preview_start", _("запущен предпросмотр влияния")
    RULES_PREVIEW_AFFECTED_VIEW = (
        "rules.preview_affected_view",
        _("просмотр заявок, затронутых предпросмотром"),
    )
    RULES_PUBLISH = "rules.publish", _("набор правил опубликован")
    RULES_RESCORE_START = "rules.rescore_start", _("запущен пересчёт открытых заявок")
    RULES_RESCORE_DONE = "rules.rescore_done", _("пересчёт открытых заявок завершён")
    SCHOOL_CREATE = "school.create", _("школа добавлена")
    SCHOOL_UPDATE = "school.update", _("данные школы изменены")
    SCHOOL_DEACTIVATE = "school.deactivate", _("школа отключена от пилота")
    SCHOOL_ACTIVATE = "school.activate", _("школа снова подключена к пилоту")
    SCHOOL_IMPORT = "school.import", _("импорт школ из файла")
    STAFF_CREATE = "staff.create", _("учётная запись сотрудника создана")
    STAFF_UPDATE = "staff.update", _("данные сотрудника изменены")
    STAFF_MOVE = "staff.move", _("сотрудник переведён в другую школу")
    STAFF_DEACTIVATE = "staff.deactivate", _("учётная запись сотрудника отключена")
    STAFF_ACTIVATE = "staff.activate", _("учётная запись сотрудника снова включена")
    STAFF_MFA_RESET = "staff.mfa_reset", _("второй фактор сотрудника сброшен")
    STAFF_IMPORT = "staff.import", _("импорт сотрудников из файла")
    LETTER_ISSUE = "letter.issue", _("выдано письмо о решении")
    LETTER_DOWNLOAD = "letter.download", _("скачано письмо о решении")
    LETTER_VERIFY = "letter.verify", _("проверка кода письма о решении")
    NOTICE_SENT = "notice.sent", _("уведомление семье отправлено")
    NOTICE_FAILED = "notice.failed", _("уведомление семье не доставлено")
    NOTICES_OPT_OUT = "notices.opt_out", _("семья отказалась от уведомлений")
    NOTICES_OPT_IN = "notices.opt_in", _("семья снова получает уведомления")
    RETENTION_RUN = "retention.run", _("проверка сроков хранения данных семей")
    RETENTION_HOLD_PLACE = "retention.hold_place", _("данные семьи удержаны от удаления")
    RETENTION_HOLD_RELEASE = "retention.hold_release", _("удержание данных семьи снято")
    PRIVACY_REGISTER_VIEW = "privacy.register_view", _("просмотрен реестр обработки данных")
    PERSON_RECORD_PRODUCE = "privacy.person_record", _("составлена личная выписка по ИИН")
    BUDGET_SET = "budget.set", _("бюджет школы установлен")
    BUDGET_IMPORT = "budget.import", _("импорт бюджетов из файла")
    PAYMENT_REGISTER = "payment.register", _("выгружен реестр платежей")
    PAYMENT_RECONCILE = "payment.reconcile", _("загружена сверка платежей банка")
    APPEAL_FILE = "appeal.file", _("подана жалоба на решение")
    APPEAL_UPHOLD = "appeal.uphold", _("жалоба рассмотрена: решение оставлено в силе")
    APPEAL_REVISE = "appeal.revise", _("жалоба рассмотрена: решение изменено")
    APPEAL_RESCORE = "appeal.rescore", _("жалоба рассмотрена: пересчёт по исправленной карте")
    APPEAL_VIEW = "appeal.view", _("просмотрена жалоба")
    APPEAL_LIST_VIEW = "appeal.list_view", _("просмотрен список жалоб")
    APPEAL_ATTACHMENT_DOWNLOAD = "appeal.attachment_download", _("скачано вложение жалобы")
    PAYMENTS_VIEW = "payment.list_view", _("просмотр списка платежей")


def audit_build(
    *,
    action: AuditAction | str,
    scope: Scope | None = None,
    actor: Any = None,
    object_type: str = "",
    object_id: str = "",
    school_id: int | None = None,
    ip: str | None = None,
    outcome: str = AuditEvent.Outcome.OK,
    detail: dict | None = None,
) -> AuditEvent:
    """One audit event, validated and not saved yet (see :func:`audit_record`).

    ``action`` must be an :class:`AuditAction` (or its value): an unknown action is a
    programming error (``ValueError``), never a silently new kind of row.
    """
    action = AuditAction(action)
    event = AuditEvent(
        actor_id=getattr(actor, "pk", None) or getattr(scope, "user_id", None),
        actor_username=(actor.get_username() if actor is not None else "") or "",
        role=(
            getattr(scope, "role", None)
            or ("superuser" if getattr(scope, "is_superuser", False) else "")
        )
        if scope is not None
        else "system",
        school_id=school_id,
        action=action.value,
        object_type=object_type,
        object_id=str(object_id),
        ip=ip or None,
        outcome=outcome,
        detail=detail or {},
    )
    # Foreign keys come from objects already loaded; the database enforces them.
    event.full_clean(exclude=["actor", "school"], validate_unique=False, validate_constraints=False)
    return event


def audit_record(
    *,
    action: AuditAction | str,
    scope: Scope | None = None,
    actor: Any = None,
    object_type: str = "",
    object_id: str = "",
    school_id: int | None = None,
    ip: str | None = None,
    outcome: str = AuditEvent.Outcome.OK,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one audit event. `detail` must not contain an ИИН, a name or an income.

    ``action`` must be an :class:`AuditAction` (or its value): an unknown action is a
    programming error (``ValueError``), never a silently new kind of row.
    """
    event = audit_build(
        action=action,
        scope=scope,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        school_id=school_id,
        ip=ip,
        outcome=outcome,
        detail=detail,
    )
    insert(event)  # a fixed INSERT (portal.dbrows): an audit row on every action
    return event


def audit_record_many(events: list[AuditEvent]) -> None:
    """Append events built by :func:`audit_build` with one INSERT (a set-based transition)."""
    if events:
        AuditEvent.objects.bulk_create(events)
