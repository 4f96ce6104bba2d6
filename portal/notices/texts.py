"""The words of the notices, in the family's language. An SMS never holds an ИИН, a category,
an amount or a name: only that something happened and where to ask."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _


def _school(req: Any, language: str) -> str:
    school = req.school
    return (school.name_kk if language == "kk" and school.name_kk else "") or school.name_ru


def sms_text(req: Any, event: str, language: str) -> str:
    with translation.override(language):
        values = {"school": _school(req, language), "kind": req.get_aid_kind_display()}
        if event == "received":
            return (
                _(
                    "Көмек: %(school)s подала заявку на помощь вашему ребёнку (%(kind)s). "
                    "О решении мы сообщим SMS."
                )
                % values
            )
        if event == "decided":
            return (
                _(
                    "Көмек: по заявке на помощь (%(kind)s) принято решение. Письмо с решением и "
                    "его причинами выдаст социальный педагог: %(school)s."
                )
                % values
            )
        if event == "payment_failed":
            return (
                _(
                    "Көмек: выплата помощи (%(kind)s) не прошла. Социальный педагог свяжется с "
                    "вами, чтобы уточнить реквизиты: %(school)s."
                )
                % values
            )
        return (
            _(
                "Көмек: ваша жалоба по заявке на помощь (%(kind)s) рассмотрена. Подробности у "
                "социального педагога: %(school)s."
            )
            % values
        )


def email_subject(event: str, language: str) -> str:
    with translation.override(language):
        return {
            "received": _("Көмек: заявка на помощь подана"),
            "decided": _("Көмек: по заявке на помощь принято решение"),
            "payment_failed": _("Көмек: выплата помощи не прошла"),
        }.get(event, _("Көмек: жалоба рассмотрена"))


def email_text(req: Any, event: str, language: str) -> str:
    with translation.override(language):
        return "\n\n".join(
            [
                _("Здравствуйте!"),
                sms_text(req, event, language),
                _("Это письмо отправлено автоматически, отвечать на него не нужно."),
            ]
        )
