"""Input and output serializers of the aid-request API (validation only; rules live in services)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.requests.lifecycle import allowed_actions
from portal.requests.models import (
    COMMENT_MAX_LENGTH,
    MAX_AMOUNT_KZT,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    AidKind,
    AidRequest,
    ConsentMethod,
    Decision,
    FamilyLanguage,
    Ground,
    Status,
    validate_academic_year,
    validate_iin,
    validate_phone,
)


def _django_validator(fn: Any) -> Any:
    def run(value: Any) -> None:
        try:
            fn(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    return run


class BuiltFieldsOnce:
    """A serializer that builds its fields once per class and gives each instance its own
    copies. DRF builds a ModelSerializer's fields from the model's metadata for every instance
    (measured ~2 ms of a submission's answer) and deep-copies every declared field, which
    calls the field's constructor again (a third of a serializer's CPU, measured). Here a
    nested serializer is deep-copied as DRF does; a plain field is copied shallowly: the
    unbound prototypes are never used themselves, and what a copy shares with them (the
    validators, choices and messages they were built with) is only read."""

    def get_fields(self) -> dict[str, Any]:
        import copy

        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._built_fields = built
        return {
            name: copy.deepcopy(f) if isinstance(f, serializers.BaseSerializer) else _shallow(f)
            for name, f in built.items()
        }


def _shallow(field: Any) -> Any:
    """``copy.copy(field)`` without the copy protocol's detour (``__reduce_ex__``; measured: a
    third of the answer's CPU): a new object of the class with the same attributes."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class ConsentSerializer(BuiltFieldsOnce, serializers.Serializer):
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    reference = serializers.CharField(max_length=100)
    given_on = serializers.DateField()
    valid_until = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["valid_until"] < attrs["given_on"]:
            raise serializers.ValidationError(
                {"valid_until": [_("Срок действия согласия раньше даты его получения.")]}
            )
        return attrs


class AidRequestCreateSerializer(BuiltFieldsOnce, serializers.Serializer):
    student_iin = serializers.CharField(validators=[_django_validator(validate_iin)])
    student_full_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    grade = serializers.IntegerField(min_value=0, max_value=11)
    guardian_iin = serializers.CharField(validators=[_django_validator(validate_iin)])
    guardian_full_name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    guardian_phone = serializers.CharField(
        max_length=20, validators=[_django_validator(validate_phone)]
    )
    ground = serializers.ChoiceField(choices=Ground.choices)
    aid_kind = serializers.ChoiceField(choices=AidKind.choices)
    amount_kzt = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT_KZT)
    academic_year = serializers.CharField(
        max_length=9, validators=[_django_validator(validate_academic_year)]
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default=""
    )
    consent = ConsentSerializer(required=False, allow_null=True)
    guardian_email = serializers.EmailField(required=False, allow_blank=True, default="")
    family_language = serializers.ChoiceField(
        choices=FamilyLanguage.choices, required=False, allow_blank=True, default=""
    )
    notices_opt_out = serializers.BooleanField(required=False, default=False)

    def to_service_data(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        if "consent" not in data and self.partial:
            return data
        consent = data.pop("consent", None) or {}
        data["consent_method"] = consent.get("method", "")
        data["consent_reference"] = consent.get("reference", "")
        data["consent_given_on"] = consent.get("given_on")
        data["consent_valid_until"] = consent.get("valid_until")
        return data


class AidRequestBatchSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=5000, allow_empty=False
    )
    save_valid = serializers.BooleanField(required=False, default=False)


CONSENT_API_FIELDS = {
    "consent_method": "method",
    "consent_reference": "reference",
    "consent_given_on": "given_on",
    "consent_valid_until": "valid_until",
}


def api_field_errors(errors: dict[str, list[str]]) -> dict[str, Any]:
    """Service field errors → the API's field names (consent fields nested under ``consent``)."""
    out: dict[str, Any] = {}
    for field, messages in errors.items():
        if field in CONSENT_API_FIELDS:
            out.setdefault("consent", {})[CONSENT_API_FIELDS[field]] = messages
        elif field == "__all__":
            out.setdefault("non_field_errors", []).extend(messages)
        else:
            out[field] = messages
    return out


class AidRequestListQuerySerializer(serializers.Serializer):
    """The list's query parameters: a malformed one is a 400 naming it (never a 500)."""

    status = serializers.ChoiceField(choices=Status.choices, required=False, allow_blank=True)
    ground = serializers.ChoiceField(choices=Ground.choices, required=False, allow_blank=True)
    aid_kind = serializers.ChoiceField(choices=AidKind.choices, required=False, allow_blank=True)
    academic_year = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=9,
        validators=[_django_validator(validate_academic_year)],
    )
    category = serializers.IntegerField(required=False, min_value=1, max_value=6)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    sort = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")


class AidRequestSearchSerializer(AidRequestListQuerySerializer):
    """The list's filters in a request body (``POST …/aid-requests/search/``), and the page."""

    page = serializers.IntegerField(required=False, min_value=1, default=1)


class DecisionInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Decision.Outcome.choices)
    amount_kzt = serializers.IntegerField(
        min_value=1, max_value=MAX_AMOUNT_KZT, required=False, allow_null=True
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX_LENGTH, default=""
    )


class DecisionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    decided_by = serializers.CharField(source="decided_by.get_username", read_only=True)
    signature = serializers.SerializerMethodField(
        help_text="The principal's second signature: status none (not needed), pending, "
        "signed or refused (the decision is void); who and when."
    )

    class Meta:
        model = Decision
        fields = [
            "id",
            "outcome",
            "amount_kzt",
            "recommendation",
            "against_recommendation",
            "reason",
            "decided_by",
            "created_at",
            "signature",
        ]

    def get_signature(self, obj: Decision) -> dict[str, Any]:
        return {
            "required": obj.signature_required,
            "status": obj.signature,
            "status_display": str(Decision.Signature(obj.signature).label),
            "signed_by": obj.signed_by.get_username() if obj.signed_by_id else None,
            "signed_at": obj.signed_at,
            "reason": obj.signature_reason,
        }


class SignatureInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[("sign", "sign"), ("refuse", "refuse")])
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX_LENGTH, default=""
    )


class PendingSignatureSerializer(serializers.ModelSerializer):
    """A decision waiting for the principal's signature, with its request."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    aid_request = serializers.UUIDField(source="request.public_id", read_only=True)
    student_full_name = serializers.CharField(source="request.student_full_name")
    aid_kind = serializers.CharField(source="request.aid_kind")
    academic_year = serializers.CharField(source="request.academic_year")
    decided_by = serializers.CharField(source="decided_by.get_username", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "aid_request",
            "student_full_name",
            "aid_kind",
            "academic_year",
            "outcome",
            "amount_kzt",
            "against_recommendation",
            "reason",
            "decided_by",
            "created_at",
            "url",
        ]

    def get_url(self, obj: Decision) -> str:
        return reverse("api:aid-request-sign", args=[obj.request.public_id])


class RecommendationSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    markers = serializers.ListField(child=serializers.CharField())


class AssessmentSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    category = serializers.IntegerField()
    category_label = serializers.CharField()
    high_welfare = serializers.BooleanField()
    markers = serializers.ListField(child=serializers.CharField())
    rule_set = serializers.CharField(source="ruleset_version")
    created_at = serializers.DateTimeField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    params = serializers.DictField()
    text = serializers.CharField()


class AidRequestListSerializer(BuiltFieldsOnce, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    school = serializers.UUIDField(source="school.public_id", read_only=True)
    status_reason = serializers.SerializerMethodField(
        help_text="The reason in the request's language (Accept-Language)."
    )
    reason = serializers.SerializerMethodField()

    def get_status_reason(self, obj: AidRequest) -> str:
        return obj.status_reason

    def get_reason(self, obj: AidRequest) -> dict[str, Any] | None:
        reason = obj.reason
        return ReasonSerializer(reason.as_dict()).data if reason else None

    class Meta:
        model = AidRequest
        fields = [
            "id",
            "school",
            "student_full_name",
            "grade",
            "ground",
            "aid_kind",
            "amount_kzt",
            "academic_year",
            "status",
            "status_reason",
            "reason",
            "created_at",
        ]


class AidRequestDetailSerializer(AidRequestListSerializer):
    status_display = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()
    assessment = serializers.SerializerMethodField()
    recommendation = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text="What the caller may do now (the transition table): sign, "
        "refuse_signature, decide, resubmit, contest, withdraw."
    )
    letter = serializers.SerializerMethodField()
    appeals = serializers.SerializerMethodField()
    notices = serializers.SerializerMethodField()
    duplicates = serializers.SerializerMethodField(
        help_text="Other schools' open or approved requests for the same student, kind and "
        "year (one child, one grant): school name and request code only."
    )

    class Meta(AidRequestListSerializer.Meta):
        fields = [
            *AidRequestListSerializer.Meta.fields,
            "status_display",
            "student_iin",
            "guardian_iin",
            "guardian_full_name",
            "guardian_phone",
            "guardian_email",
            "family_language",
            "notices_opt_out",
            "comment",
            "consent",
            "attempt",
            "assessment",
            "recommendation",
            "decision",
            "actions",
            "letter",
            "appeals",
            "notices",
            "duplicates",
        ]

    def _view(self) -> Any:
        return self.context["view_data"]

    def get_status_display(self, obj: AidRequest) -> str:
        return str(Status(obj.status).label)

    def get_consent(self, obj: AidRequest) -> dict[str, Any] | None:
        if not obj.consent_method:
            return None
        return {
            "method": obj.consent_method,
            "reference": obj.consent_reference,
            "given_on": obj.consent_given_on,
            "valid_until": obj.consent_valid_until,
        }

    def get_assessment(self, obj: AidRequest) -> dict[str, Any] | None:
        v = self._view()
        if v.assessment is None:
            return None
        a = v.assessment
        a.category_label = v.category_label
        return AssessmentSerializer(a).data

    def get_recommendation(self, obj: AidRequest) -> dict[str, Any] | None:
        rec = self._view().recommendation
        if rec is None:
            return None
        return {"code": rec.code, "text": rec.text, "markers": list(rec.markers)}

    def get_actions(self, obj: AidRequest) -> list[str]:
        return [str(a) for a in allowed_actions(obj, self.context.get("scope"))]

    def get_decision(self, obj: AidRequest) -> dict[str, Any] | None:
        d = self._view().decision
        return DecisionSerializer(d).data if d else None

    def get_letter(self, obj: AidRequest) -> dict[str, Any] | None:
        from portal.letters.selectors import letters_for_request

        if self._view().new:
            return None
        letters = letters_for_request(scope=self.context["scope"], aid_request=obj)
        if not letters:
            return None
        letter = letters[0]
        return {
            "code": letter.code_grouped,
            "status": letter.status,
            "issued_at": letter.issued_at,
            "appeal_until": letter.appeal_until,
            "url": reverse("api:aid-request-letter", args=[obj.public_id]),
        }

    def get_appeals(self, obj: AidRequest) -> list[dict[str, Any]]:
        from portal.appeals.api import appeal_data
        from portal.appeals.selectors import appeals_of_request

        if self._view().new:
            return []
        return [appeal_data(a) for a in appeals_of_request(request=obj)]

    def get_notices(self, obj: AidRequest) -> list[dict[str, Any]]:
        from portal.notices.selectors import notices_for_request

        return [
            {
                "event": n.event,
                "channel": n.channel,
                "status": n.status,
                "attempts": n.attempts,
                "sent_at": n.sent_at,
            }
            for n in notices_for_request(scope=self.context["scope"], aid_request=obj)
        ]

    def get_duplicates(self, obj: AidRequest) -> list[dict[str, str]]:
        from portal.budgets.duplicates import aid_request_duplicates

        known = self._view().duplicates
        return [
            {"school_name": d.school_name, "request_code": d.request_code}
            for d in (aid_request_duplicates(aid_request=obj) if known is None else known)
        ]
