"""Russian formats: Django's, with ISO dates accepted (and rendered into date inputs) first."""

from django.conf.locale.ru.formats import *  # noqa: F403
from django.conf.locale.ru.formats import DATE_INPUT_FORMATS as _DJANGO_DATE_INPUT_FORMATS

DATE_INPUT_FORMATS = ["%Y-%m-%d", *_DJANGO_DATE_INPUT_FORMATS]
