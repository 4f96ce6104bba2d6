"""Forms: sign-in, the throttled TOTP step, API token creation, replacing the TOTP device."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal import auth as totp_auth
from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from portal.accounts import throttle
from portal.accounts.models import TOKEN_NAME_MAX_LENGTH


class StaffLoginForm(LoginForm):
    """allauth's sign-in with the login field named for what it takes (allauth's Russian
    catalogue calls it "Войти", the button's word)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Логин или электронная почта")
        self.fields["login"].widget.attrs["placeholder"] = _("например, aliya.nurlanovna")
        self.fields["login"].widget.attrs["autocomplete"] = "username"


class _ThrottledCodeMixin:
    """Wrong codes count on the account's "totp" counter (or the known device's own), never
    on the client IP's bucket of a whole school; allauth's own per-IP counting is off."""

    user: Any

    def clean_code(self) -> str:
        from allauth.core import context

        request = context.request
        verdict = throttle.check(request, "totp", self.user.pk)
        if not verdict.allowed:
            raise forms.ValidationError(throttle.refusal_message(verdict), code="throttled")
        try:
            code = super().clean_code()  # type: ignore[misc]
        except forms.ValidationError:
            throttle.failed(request, "totp", self.user.pk)
            raise
        throttle.succeeded(request, "totp", self.user.pk)
        return code


class ThrottledAuthenticateForm(_ThrottledCodeMixin, AuthenticateForm):
    pass


class ThrottledReauthenticateForm(_ThrottledCodeMixin, ReauthenticateForm):
    pass


class RecordingActivateTOTPForm(_ThrottledCodeMixin, ActivateTOTPForm):
    """Setting up TOTP takes a valid code from the new device: that is this session's TOTP
    step (recorded as allauth records one), so the user goes on without signing in again."""

    def clean_code(self) -> str:
        from allauth.account.internal.flows.login import record_authentication
        from allauth.core import context

        code = super().clean_code()
        record_authentication(context.request, self.user, "mfa", type="totp", enrolled=True)
        return code


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Название (для чего токен)"),
        max_length=TOKEN_NAME_MAX_LENGTH,
        strip=True,
        validators=[validators.ProhibitNullCharactersValidator()],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class TotpReplaceForm(forms.Form):
    """The code of the *new* device proves it works before the old one is dropped."""

    code = forms.CharField(
        label=_("Код из нового приложения"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "form-control",
            }
        ),
    )

    def __init__(self, *args: Any, user: Any, secret: str, **kwargs: Any) -> None:
        self.user = user
        self.secret = secret
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        from allauth.core import context

        request = context.request
        verdict = throttle.check(request, "totp", self.user.pk)
        if not verdict.allowed:
            raise forms.ValidationError(throttle.refusal_message(verdict), code="throttled")
        code = self.cleaned_data["code"]
        if not totp_auth.validate_totp_code(self.secret, code):
            throttle.failed(request, "totp", self.user.pk)
            raise get_mfa_adapter().validation_error("incorrect_code")
        return code
