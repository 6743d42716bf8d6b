"""Languages of the server's pages: their gettext catalog, the language a request asks for, and the
Jinja2 environment that renders `grader/server/templates/*.html` (autoescaped).

The pages speak English and Persian as the reports do (`grader/report/i18n.py`: the same number
filters, Persian digits, right-to-left). Their texts have their own catalog, domain `pages`, in
`grader/server/locale/`; the msgids are the English texts. After changing a text:

    pybabel extract -F grader/server/babel.cfg --no-location --sort-output --project dlgrade -o grader/server/locale/pages.pot .
    pybabel update -D pages -i grader/server/locale/pages.pot -d grader/server/locale --no-fuzzy-matching --ignore-obsolete
    (translate the new entries in grader/server/locale/fa/LC_MESSAGES/pages.po)
    pybabel compile -D pages -d grader/server/locale

`tests/test_server_pages.py` fails when the catalog, the .mo or the .pot are out of date.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from grader.report.i18n import (LANGS, check_lang, direction, format_number, format_percent, inline_code,
                                localize_digits)
from grader.report.text import when_text

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
TEMPLATES_DIR = HERE / "templates"
DOMAIN = "pages"
DEFAULT_LANG = "en"


def N_(message: str) -> str:
    """Marks a text for extraction (pybabel) without translating it here."""
    return message


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of the pages in `lang` (English: the msgids themselves)."""
    check_lang(lang)
    if lang == "en":
        return gettext.NullTranslations()
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as fh:
        return gettext.GNUTranslations(fh)


def gettext_for(lang: str):
    """The gettext function of a language, for texts made in Python."""
    return translations(lang).gettext


def choose_lang(request) -> str:
    """The language of a page: `?lang=` (fa or en), else the language cookie, else the browser's
    first choice when it is Persian, else English."""
    from grader.server.sessions import LANG_COOKIE
    for asked in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if asked in LANGS:
            return asked
    accept = request.headers.get("accept-language", "").strip().lower()
    return "fa" if accept.startswith("fa") else DEFAULT_LANG


@lru_cache(maxsize=None)
def environment(lang: str):
    """The Jinja2 environment of one language: the page templates (autoescaped, compiled once), the
    i18n extension with the catalog installed, and the reports' number and time filters."""
    import jinja2
    check_lang(lang)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        extensions=["jinja2.ext.i18n"], auto_reload=False, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, cache_size=-1)
    env.install_gettext_translations(translations(lang), newstyle=True)
    env.filters["num"] = lambda v, digits=2: format_number(v, lang, digits)
    env.filters["pct"] = lambda v, digits=0: format_percent(v, lang, digits)
    env.filters["digits"] = lambda v: localize_digits(str(v), lang)
    env.filters["when"] = lambda v: when_text(v, lang)
    env.filters["code"] = inline_code
    env.globals.update(lang=lang, dir=direction(lang), other_lang="en" if lang == "fa" else "fa")
    return env


def render(lang: str, name: str, **context) -> str:
    """A page template rendered in `lang`."""
    return environment(lang).get_template(name).render(**context)


__all__ = ["N_", "LANGS", "DEFAULT_LANG", "translations", "gettext_for", "choose_lang", "environment", "render"]
