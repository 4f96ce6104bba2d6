from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

TEXT = {"class": "form-control", "autocomplete": "off"}


class HoldPlaceForm(forms.Form):
    request = forms.UUIDField(
        label=_("Номер заявки (идентификатор)"), widget=forms.TextInput(attrs=TEXT)
    )
    reason = forms.CharField(
        label=_("Причина удержания"), max_length=500, widget=forms.TextInput(attrs=TEXT)
    )


class HoldReleaseForm(forms.Form):
    hold = forms.IntegerField(widget=forms.HiddenInput)
    release_reason = forms.CharField(
        label=_("Причина снятия"), max_length=500, widget=forms.TextInput(attrs=TEXT)
    )
