"""Languages of the feedback reports: gettext catalogs, numbers as a reader of each language
writes them, and the Jinja2 environments that render the report templates.

Translations live in `grader/report/locale/<lang>/LC_MESSAGES/messages.po` (compiled to `.mo`, which is
committed so nothing is built at run time). The msgids are the English texts, so English needs no
catalog. After changing a translatable text (in grader/report/ or grader/report/templates/):

    pybabel extract -F babel.cfg --no-location --sort-output --project dlgrade -o grader/report/locale/messages.pot .
    pybabel update -i grader/report/locale/messages.pot -d grader/report/locale --no-fuzzy-matching --ignore-obsolete
    (translate the new entries in grader/report/locale/fa/LC_MESSAGES/messages.po)
    pybabel compile -d grader/report/locale

`tests/test_report.py` fails when the catalog, the .mo or the .pot are out of date.
"""

from __future__ import annotations

import gettext
import math
import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DOMAIN = "messages"
LANGS = ("fa", "en")
RTL = frozenset({"fa"})

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_FA_DECIMAL = "\u066b"  # ٫ Arabic decimal separator, as Persian writes it
_FA_PERCENT = "\u066a"  # ٪


def N_(message: str) -> str:
    """Marks a text for extraction (pybabel) without translating it here."""
    return message


FRACTION = N_("%(a)s / %(b)s")  # points: "13 / 22"; Persian "۱۳ از ۲۲"


class LanguageError(ValueError):
    """An unknown language; the message says which ones there are."""


def check_lang(lang: object) -> str:
    if lang not in LANGS:
        raise LanguageError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)} (e.g. --lang fa)")
    return lang  # type: ignore[return-value]


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang` (English: the msgids themselves)."""
    check_lang(lang)
    if lang == "en":
        return gettext.NullTranslations()
    mo = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    except OSError as err:
        raise LanguageError(f"the {lang} translations ({mo}) cannot be read ({err.strerror}); reinstall dlgrade, "
                            f"or run `pybabel compile -d {LOCALE_DIR}` in a checkout") from None


def localize_digits(text: str, lang: str) -> str:
    """ASCII digits (and a decimal point between digits) as the language writes them."""
    if lang != "fa":
        return text
    out = []
    for i, ch in enumerate(text):
        if ch == "." and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            out.append(_FA_DECIMAL)
        elif ch == "%":
            out.append(_FA_PERCENT)
        else:
            out.append(ch)
    return "".join(out).translate(_PERSIAN_DIGITS)


def format_number(value: object, lang: str = "en", digits: int = 2) -> str:
    """A number for prose: integers without decimals, others with at most `digits` decimals;
    Persian digits in Persian. None and non-numbers become '-'."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    if float(value).is_integer():
        text = str(int(value))
    else:
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return localize_digits(text, lang)


def format_percent(value: object, lang: str = "en", digits: int = 0) -> str:
    """A fraction (0.853) as a percentage ('85%', Persian '۸۵٪')."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    text = f"{100 * value:.{digits}f}%"
    return localize_digits(text, lang)


def format_fixed(value: object, lang: str = "en", digits: int = 3) -> str:
    """A number with exactly `digits` decimals (accuracies: 0.912)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    return localize_digits(f"{value:.{digits}f}", lang)


@lru_cache(maxsize=None)
def environment(lang: str):
    """The Jinja2 environment of one language: the report templates (compiled once and kept),
    the i18n extension with the language's catalog installed, and the number filters.
    HTML templates (*.html.j2) are autoescaped; Markdown templates (*.md.j2) are not."""
    import jinja2
    check_lang(lang)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, cache_size=-1)
    env.install_gettext_translations(translations(lang), newstyle=True)
    env.filters["num"] = lambda v, digits=2: format_number(v, lang, digits)
    env.filters["pct"] = lambda v, digits=0: format_percent(v, lang, digits)
    env.filters["fixed"] = lambda v, digits=3: format_fixed(v, lang, digits)
    env.filters["digits"] = lambda v: localize_digits(str(v), lang)
    env.filters["fence"] = code_fence
    env.filters["md"] = markdown_escape
    env.filters["code"] = inline_code
    env.filters["ltr"] = lambda v: Markup('<bdi dir="ltr">%s</bdi>') % v
    env.filters["isolate"] = lambda v: Markup("<bdi>%s</bdi>") % v
    gettext = translations(lang).gettext
    env.globals["frac"] = lambda a, b: gettext(FRACTION) % {"a": format_number(a, lang), "b": format_number(b, lang)}
    env.globals.update(lang=lang, dir=direction(lang))
    return env


@lru_cache(maxsize=None)
def template(lang: str, name: str):
    return environment(lang).get_template(name)


def inline_code(text: object):
    """HTML of a text whose `backticked` parts become <code> (the rest escaped)."""
    parts = re.split(r"`([^`\n]+)`", str(text))
    return Markup("").join(Markup('<code dir="ltr">%s</code>') % p if i % 2 else Markup("%s") % p
                           for i, p in enumerate(parts))


def code_fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text or "")), default=0)
    return "`" * max(3, longest + 1)


def markdown_escape(text: object) -> str:
    """Text with Markdown's markup characters escaped, on one line (for prose and table cells)."""
    text = " ".join(str(text).split())
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", text)


def gettext_for(lang: str):
    """(gettext, ngettext) of a language, for texts made in Python."""
    t = translations(lang)
    return t.gettext, t.ngettext
