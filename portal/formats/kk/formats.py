"""Kazakh formats (CLDR ``kk``). Date format syntax: Django's ``date`` filter; ``E`` is the
month name as it stands after a day number (lower case, see ``locale_vendor/kk``)."""

DATE_FORMAT = "Y ж. j E"  # 2026 ж. 15 қыркүйек
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y ж. j E, H:i"
YEAR_MONTH_FORMAT = "Y ж. E"
MONTH_DAY_FORMAT = "j E"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday

# ISO first: <input type="date"> sends and expects it.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%y %H:%M",
]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M"]

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"  # no-break space, as CLDR (and Babel) write Kazakh numbers
NUMBER_GROUPING = 3
