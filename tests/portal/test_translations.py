"""Translation catalogs: Kazakh and English complete, placeholders intact, .mo files current.

The portal's msgids are Russian (``locale/``); ``locale_vendor/kk`` adds Kazakh for the
django-allauth and Django strings of the sign-in, password and two-factor pages. The .po
files are read with a small parser here (no polib), the .mo files with the standard
library's ``gettext``.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

BASE = Path(settings.BASE_DIR)
PROJECT = BASE / "locale"
VENDOR = BASE / "locale_vendor"
NPLURALS = {"ru": 4, "kk": 2, "en": 2}
COMPLETE = ("kk", "en")  # every msgstr filled; the ru msgids are Russian already


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def where(self) -> str:
        return f"line {self.line}: {self.msgid[:60]!r}"

    def forms(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.plural[i] for i in sorted(self.plural)]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, the header (msgid "") first; obsolete (#~) entries skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if current is not None and current.msgid:
                finish()  # comment after a complete entry starts the next one
            if current is None:
                current = Entry(line=number)
            if line.startswith("#,"):
                current.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if current is None:
            current = Entry(line=number)
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation without a keyword"
            value = _unquote(line)
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            target, value = (keyword, -1), _unquote(rest)
            if keyword == "msgid":
                current.line = number
            setattr(current, keyword, "")
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            target, value = ("plural", index), _unquote(rest)
            current.plural[index] = ""
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
        name, index = target
        if name == "plural":
            current.plural[index] += value
        else:
            setattr(current, name, getattr(current, name) + value)
    finish()
    assert entries and entries[0].msgid == "", f"{path}: no header entry"
    return entries


def header_fields(entries: list[Entry]) -> dict[str, str]:
    fields = {}
    for line in entries[0].msgstr.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


_PRINTF = re.compile(r"%(?:\(\w+\))?[-+ #0]*\d*(?:\.\d+)?[sdifeEgGxXorc%]")
_BRACE = re.compile(r"(?<!\{)\{(\w*)\}(?!\})")
_TEMPLATE_VAR = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def placeholders(text: str, entry: Entry) -> list[str]:
    """%(name)s / %s where python-format, {name} where python-brace-format, and {{ name }}."""
    found: list[str] = []
    if "python-format" in entry.flags:
        found = [m.group(0) for m in _PRINTF.finditer(text)]
        found = [p for p in found if p != "%%"]
    # positional ones must keep their count; named ones may repeat
    named = any(p.startswith("%(") for p in found)
    found = sorted(set(found)) if named else sorted(found)
    found += sorted(f"{{{{ {m} }}}}" for m in _TEMPLATE_VAR.findall(text))
    if "python-brace-format" in entry.flags:
        found += sorted({f"{{{m}}}" for m in _BRACE.findall(text)})
    return found


def catalog(root: Path, lang: str) -> Path:
    return root / lang / "LC_MESSAGES" / "django.po"


CATALOGS = [(PROJECT, lang) for lang in ("ru", "kk", "en")] + [(VENDOR, "kk")]
IDS = [f"{root.name}-{lang}" for root, lang in CATALOGS]


@pytest.mark.parametrize("root,lang", CATALOGS, ids=IDS)
def test_it_declares_the_language_and_its_plural_forms(root, lang):
    entries = parse_po(catalog(root, lang))
    fields = header_fields(entries)
    assert fields.get("Language") == lang
    assert "charset=UTF-8" in fields.get("Content-Type", "")
    match = re.search(r"nplurals=(\d+)", fields.get("Plural-Forms", ""))
    assert match and int(match[1]) == NPLURALS[lang], fields.get("Plural-Forms")
    for e in entries[1:]:
        if e.msgid_plural is not None:
            assert sorted(e.plural) == list(range(NPLURALS[lang])), e.where


@pytest.mark.parametrize("root,lang", CATALOGS, ids=IDS)
def test_it_has_no_fuzzy_entries(root, lang):
    fuzzy = [e.where for e in parse_po(catalog(root, lang)) if "fuzzy" in e.flags]
    assert not fuzzy, fuzzy


@pytest.mark.parametrize(
    "root,lang",
    [c for c in CATALOGS if c[1] in COMPLETE],
    ids=[i for i in IDS if not i.endswith("ru")],
)
def test_it_translates_every_entry(root, lang):
    entries = parse_po(catalog(root, lang))[1:]
    assert entries
    empty = [e.where for e in entries if not all(form.strip() for form in e.forms())]
    assert not empty, f"{len(empty)} untranslated in {lang}: {empty[:20]}"


def test_it_fills_every_plural_form_in_russian():
    for e in parse_po(catalog(PROJECT, "ru"))[1:]:
        if e.msgid_plural is not None:
            assert all(form.strip() for form in e.forms()), e.where


@pytest.mark.parametrize("root,lang", CATALOGS, ids=IDS)
def test_it_keeps_the_placeholders_of_the_msgid(root, lang):
    wrong = []
    for e in parse_po(catalog(root, lang))[1:]:
        for index, form in enumerate(e.forms()):
            if not form:
                continue  # ru may leave the Russian msgid as it is
            source = e.msgid if index == 0 or e.msgid_plural is None else e.msgid_plural
            if placeholders(form, e) != placeholders(source, e):
                wrong.append(
                    f"{e.where} [{index}]: {placeholders(source, e)} ≠ {placeholders(form, e)}"
                )
    assert not wrong, wrong


@pytest.mark.parametrize("root,lang", CATALOGS, ids=IDS)
def test_it_ships_compiled_catalogs_that_match_the_po(root, lang):
    po = catalog(root, lang)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages --ignore=.venv"
    with mo.open("rb") as fp:
        compiled = stdlib_gettext.GNUTranslations(fp)
    stale = []
    for e in parse_po(po)[1:]:
        ctx = e.msgctxt
        if e.msgid_plural is None:
            if not e.msgstr:
                continue
            got = compiled.pgettext(ctx, e.msgid) if ctx else compiled.gettext(e.msgid)
            if got != e.msgstr:
                stale.append(e.where)
        else:
            if not all(e.forms()):
                continue
            got = (
                compiled.npgettext(ctx, e.msgid, e.msgid_plural, 1)
                if ctx
                else compiled.ngettext(e.msgid, e.msgid_plural, 1)
            )
            if got not in e.forms():
                stale.append(e.where)
    assert not stale, f"{po.with_suffix('.mo')} is stale, run compilemessages: {stale[:10]}"


def test_it_reads_the_vendor_catalog_after_the_project_one():
    assert [Path(p) for p in settings.LOCALE_PATHS][:2] == [PROJECT, VENDOR]


def test_it_serves_the_portal_strings_in_each_language():
    with translation.override("kk"):
        assert translation.gettext("Моя школа") == "Менің мектебім"
        assert translation.gettext("Главная") == "Басты бет"
        assert translation.gettext("БИН") == "БСН"
        assert translation.gettext("ИИН") == "ЖСН"
    with translation.override("en"):
        assert translation.gettext("Моя школа") == "My school"
        assert translation.gettext("Главная") == "Home"
    with translation.override("ru"):
        assert translation.gettext("Моя школа") == "Моя школа"


def test_it_serves_the_sign_in_and_two_factor_strings_in_kazakh():
    with translation.override("kk"):
        assert translation.pgettext("field label", "Login") == "Логин"
        assert translation.gettext("Password") == "Құпиясөз"
        assert (
            translation.gettext("Username or email") == "Пайдаланушы аты немесе электрондық пошта"
        )
        assert translation.gettext("Incorrect code.") == "Код қате."
        assert translation.gettext("Two-Factor Authentication") == "Екі факторлы аутентификация"
        assert (
            translation.gettext("This password is too common.") == "Бұл құпиясөз тым кең таралған."
        )
    with translation.override("ru"):
        assert translation.gettext("Incorrect code.") == "Неверный код."


def _installed_msgids(*relative: str) -> set[tuple[str | None, str]]:
    import allauth
    import django

    roots = {"allauth": Path(allauth.__file__).parent, "django": Path(django.__file__).parent}
    found: set[tuple[str | None, str]] = set()
    for rel in relative:
        package, _, rest = rel.partition("/")
        found |= {(e.msgctxt, e.msgid) for e in parse_po(roots[package] / rest)[1:]}
    return found


def test_it_translates_msgids_that_the_installed_packages_still_use():
    """A django-allauth or Django upgrade that rewords a string must be caught here."""
    known = _installed_msgids(
        "allauth/locale/ru/LC_MESSAGES/django.po",
        "django/conf/locale/ru/LC_MESSAGES/django.po",
        "django/contrib/auth/locale/ru/LC_MESSAGES/django.po",
    )
    vendor = [(e.msgctxt, e.msgid) for e in parse_po(catalog(VENDOR, "kk"))[1:]]
    unknown = [m for m in vendor if m not in known]
    assert not unknown, f"no longer in the installed packages: {unknown}"
