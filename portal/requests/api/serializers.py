"""Input and output serializers of the aid-request API (validation only; rules live in services)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.requests.models import (
    MAX_AMOUNT_KZT,
    AidKind,
    AidRequest,
    ConsentMethod,
    Decision,
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


class ConsentSerializer(serializers.Serializer):
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


class AidRequestCreateSerializer(serializers.Serializer):
    student_iin = serializers.CharField(validators=[_django_validator(validate_iin)])
    student_full_name = serializers.CharField(max_length=300)
    grade = serializers.IntegerField(min_value=0, max_value=11)
    guardian_iin = serializers.CharField(validators=[_django_validator(validate_iin)])
    guardian_full_name = serializers.CharField(max_length=300)
    guardian_phone = serializers.CharField(
        max_length=20, validators=[_django_validator(validate_phone)]
    )
    ground = serializers.ChoiceField(choices=Ground.choices)
    aid_kind = serializers.ChoiceField(choices=AidKind.choices)
    amount_kzt = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT_KZT)
    academic_year = serializers.CharField(
        max_length=9, validators=[_django_validator(validate_academic_year)]
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    consent = ConsentSerializer(required=False, allow_null=True)

    def to_service_data(self) -> dict[str, Any]:
        data = dict(self.validated_data)
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


class DecisionInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Decision.Outcome.choices)
    amount_kzt = serializers.IntegerField(
        min_value=1, max_value=MAX_AMOUNT_KZT, required=False, allow_null=True
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class DecisionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    decided_by = serializers.CharField(source="decided_by.get_username", read_only=True)

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
        ]


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


class AidRequestListSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    school = serializers.UUIDField(source="school.public_id", read_only=True)

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
            "created_at",
        ]


class AidRequestDetailSerializer(AidRequestListSerializer):
    status_display = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()
    assessment = serializers.SerializerMethodField()
    recommendation = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()

    class Meta(AidRequestListSerializer.Meta):
        fields = [
            *AidRequestListSerializer.Meta.fields,
            "status_display",
            "student_iin",
            "guardian_iin",
            "guardian_full_name",
            "guardian_phone",
            "comment",
            "consent",
            "attempt",
            "assessment",
            "recommendation",
            "decision",
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

    def get_decision(self, obj: AidRequest) -> dict[str, Any] | None:
        d = self._view().decision
        return DecisionSerializer(d).data if d else None
