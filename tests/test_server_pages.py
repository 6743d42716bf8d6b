"""The web pages of `dlgrade serve`, in headless Chromium against a real uvicorn server on loopback:
sign-in with a token, the session cookie's flags, what a learner's page and the staff page show,
that the pages load nothing from off the server and log no console error, that a learner cannot
open the staff pages or another learner's report, that every form needs its CSRF token (and a
form from another site is refused), that a revoked token's session ends, Persian pages right to
left, and the pages' catalog complete and compiled.

One course serves the module: learners ali (a name with HTML in it) and sara, TA tara, instructor
prof; ali and sara submit perceptron over the JSON API and the staff autograde endpoint grades
them; sara's conv-arithmetic has a grading that failed for the grader (recorded as the batch
records one), which the staff page grades again."""

from __future__ import annotations

import gettext
import re
import subprocess
import time

import httpx
import pytest

from conftest import REPO
from pg import fresh_database
from pg import postgres_url  # noqa: F401  (the PostgreSQL server of the "postgresql" runs)
from server_web import ThreadServer, Web, form_csrf

ALI_NAME = 'Ali <img src="/x.png" onerror="document.title=\'pwned\'"> & co'
LOCALE_DIR = REPO / "grader" / "server" / "locale"
ARTIFACTS = REPO / "tests" / "artifacts"


def _shot(visitor, name: str) -> None:
    """A screenshot of the visitor's page under tests/artifacts/ (for a person to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    visitor.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _submit(base: str, token: str, exercise: str, name: str, source: str) -> dict:
    r = httpx.post(f"{base}/api/v1/exercises/{exercise}/submissions", headers={"Authorization": f"Bearer {token}"},
                   files=[("file", (name, source.encode(), "text/x-python"))], timeout=60)
    assert r.status_code in (200, 201), r.text
    return r.json()


def _wait_job(base: str, token: str, job: dict, timeout: float = 240) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = httpx.get(f"{base}/api/v1/staff/jobs/{job['job']}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        if r.json()["state"] in ("done", "failed"):
            return r.json()
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish in {timeout} s")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    """(base URL, tokens by person, receipts, app) of a served course with graded work, its gradebook
    on SQLite (the course's own file) or on a real PostgreSQL server."""
    from grader.course.config import load_course
    from grader.exercise.cohort import submission_source
    from grader.exercise.spec import find_exercise
    from grader.gradebook.store import Gradebook, GradingRecord
    from grader.server.app import create_app
    from grader.server.identity import Person, issue_tokens, save_people

    tmp = tmp_path_factory.mktemp("pages")
    subprocess.run(["dlgrade", "init", "course"], cwd=tmp, check=True, capture_output=True, timeout=300)
    course = load_course(tmp / "course")
    url = course.gradebook_url
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("postgres_url"), f"pages{tmp.name.replace('-', '_')}")
    gradebook = Gradebook(url)
    save_people(gradebook, [Person("ali", ALI_NAME, "ali@example.org", "A"), Person("sara", "سارا", "", "B"),
                            Person("tara", "Tara", role="ta"), Person("prof", "Prof", role="instructor")])
    tokens = {p.id: t for p, t in issue_tokens(gradebook)}
    app = create_app(course, gradebook=gradebook)
    with ThreadServer(app) as base:
        perceptron = find_exercise("perceptron")
        receipts = {
            "ali": _submit(base, tokens["ali"], "perceptron", perceptron.entry,
                           submission_source(perceptron, "partial", "ali")),
            "sara": _submit(base, tokens["sara"], "perceptron", perceptron.entry,
                            submission_source(perceptron, "correct", "sara")),
        }
        r = httpx.post(f"{base}/api/v1/staff/autograde", headers={"Authorization": f"Bearer {tokens['prof']}"})
        assert r.status_code == 202, r.text
        done = _wait_job(base, tokens["prof"], r.json())
        assert done["state"] == "done" and done["summary"]["graded"] == 2, done
        conv = find_exercise("conv-arithmetic")
        receipts["sara-conv"] = _submit(base, tokens["sara"], "conv-arithmetic", conv.entry,
                                        submission_source(conv, "correct", "sara"))
        gradebook.record_gradings([GradingRecord(
            submission_id=receipts["sara-conv"]["submission_id"], key="failed-by-the-test", exercise_hash="x",
            grader_version="test", result_json=None, status="failed", error="the sandbox could not start",
            fault="grader_fault")])
        yield {"base": base, "tokens": tokens, "receipts": receipts, "app": app, "gradebook": gradebook}
    gradebook.close()


@pytest.fixture(scope="module")
def web():
    with Web() as w:
        yield w


def _refused(visitor, path: str, status: int) -> str:
    """Open a page that must be refused with `status`; its text (the browser's console line about
    the status is expected and dropped)."""
    response = visitor.open(path)
    assert response.status == status, (path, response.status)
    visitor.console_errors[:] = [m for m in visitor.console_errors if f"status of {status}" not in m]
    return visitor.text("main")


# --- signing in -------------------------------------------------------------------------------

def _fa_deadline(site) -> str:
    """Perceptron's deadline as the Persian page writes it (init puts it weeks from today)."""
    from grader.report.i18n import localize_digits
    return localize_digits(site["app"].state.course.deadline("perceptron").strftime("%Y/%m/%d %H:%M UTC"), "fa")


def test_learner_signs_in_and_sees_their_own_work(site, web):
    ali = web.visitor(site["base"])
    assert ali.open("/me").url.endswith("/login")  # not signed in: the login page
    assert ali.sign_in(site["tokens"]["ali"]) == "/me"
    cookie = ali.cookies()["dlgrade_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # http on loopback
    assert site["tokens"]["ali"] not in cookie["value"]  # the token itself is never in the cookie
    key = site["app"].state.course.root / "server" / "session.key"
    assert key.stat().st_mode & 0o777 == 0o600
    text = ali.text("main")
    receipt = site["receipts"]["ali"]
    row = ali.page.locator(f"tr.receipt[data-submission='{receipt['submission_id']}']")
    assert row.count() == 1
    assert receipt["sha256"][:16] in row.inner_text() and "perceptron.py" in row.inner_text()
    assert "graded" in row.inner_text() and "points" not in row.inner_text()  # no score before release
    assert ali.page.locator("tr.receipt").count() == 1  # sara's receipts are not ali's
    deadline = site["app"].state.course.deadline("perceptron")  # init puts it weeks from today
    assert deadline.strftime("%Y-%m-%d %H:%M UTC") in text  # perceptron's deadline from course.toml
    assert "Late work loses 10% per started day." in text
    assert ali.page.locator("a.feedback").count() == 0  # nothing released yet
    assert ALI_NAME in ali.text("nav")  # the name is text, never markup
    assert ali.page.title() != "pwned"
    _shot(ali, "server-me-en.png")
    assert ali.problems() == []


def test_wrong_and_revoked_tokens_are_refused_at_sign_in(site, web):
    from grader.server.identity import Person, issue_tokens, revoke_tokens, save_people
    v = web.visitor(site["base"])
    v.open("/login")
    v.page.fill("input[name=token]", "dlg_not-a-token")
    v.page.click("form.login button[type=submit]")
    v.page.wait_for_load_state("load")
    assert "not known to this course" in v.text("main") and v.path() == "/login"
    save_people(site["gradebook"], [Person("gone", "Gone")])
    (_, token), = issue_tokens(site["gradebook"], ids=["gone"])
    revoke_tokens(site["gradebook"], "gone")
    v.page.fill("input[name=token]", token)
    v.page.click("form.login button[type=submit]")
    v.page.wait_for_load_state("load")
    assert "revoked" in v.text("main") and "dlgrade_session" not in v.cookies()
    v.console_errors[:] = [m for m in v.console_errors if "status of 401" not in m]
    assert v.problems() == []


def test_a_session_ends_when_its_token_is_revoked(site, web):
    from grader.server.identity import Person, issue_tokens, revoke_tokens, save_people
    save_people(site["gradebook"], [Person("leaving", "Leaving")])
    (_, token), = issue_tokens(site["gradebook"], ids=["leaving"])
    v = web.visitor(site["base"])
    assert v.sign_in(token) == "/me"
    revoke_tokens(site["gradebook"], "leaving")
    v.open("/me")
    assert v.path() == "/login"
    assert v.problems() == []


def test_sign_out_ends_the_session(site, web):
    v = web.visitor(site["base"])
    assert v.sign_in(site["tokens"]["sara"]) == "/me"
    copy = v.cookies()["dlgrade_session"]["value"]
    with v.page.expect_navigation(wait_until="load"):
        v.page.click("nav form button[type=submit]")
    assert v.path() == "/login" and "dlgrade_session" not in v.cookies()
    v.open("/me")
    assert v.path() == "/login"
    r = httpx.get(f"{site['base']}/me", cookies={"dlgrade_session": copy})  # a copy of the old cookie
    assert r.status_code == 303 and r.headers["location"] == "/login"


# --- who may see what -------------------------------------------------------------------------

def test_a_learner_cannot_open_staff_pages_or_another_learners_report(site, web):
    ali = web.visitor(site["base"])
    ali.sign_in(site["tokens"]["ali"])
    for path in ("/staff", "/staff/dashboard", "/staff/reports/sara/perceptron", "/staff/reports/ali/perceptron"):
        assert "for the course's staff" in _refused(ali, path, 403), path
    assert "No feedback has been released" in _refused(ali, "/me/feedback/perceptron", 404)
    assert "No feedback has been released" in _refused(ali, "/me/feedback/perceptron?student=sara", 404)
    assert "سارا" not in ali.page.content()
    assert ali.problems() == []
    with httpx.Client(base_url=site["base"], cookies={"dlgrade_session": ali.cookies()["dlgrade_session"]["value"]}) as c:
        page = c.get("/staff")
        csrf = form_csrf(page.text)  # the sign-out form's token: a valid CSRF token of ali's session
        for path in ("/staff/exercises/perceptron/release", "/staff/autograde",
                     f"/staff/gradings/{_failed_grading(site)}/regrade"):
            r = c.post(path, data={"csrf": csrf})
            assert r.status_code == 403, (path, r.status_code)
    from grader.server.results import released
    assert released(site["gradebook"]) == {}


def _failed_grading(site) -> int:
    rows = [r for r in site["gradebook"].grade_rows() if r.status.value == "failed"]
    assert len(rows) == 1
    return rows[0].grading_id


def test_forms_need_their_csrf_token(site, web):
    prof = web.visitor(site["base"])
    assert prof.sign_in(site["tokens"]["prof"]) == "/staff"
    session = prof.cookies()["dlgrade_session"]["value"]
    with httpx.Client(base_url=site["base"], cookies={"dlgrade_session": session}) as c:
        csrf = form_csrf(c.get("/staff").text)
        for data in ({}, {"csrf": ""}, {"csrf": csrf[:-2] + "xx"}):
            r = c.post("/staff/exercises/backprop/release", data=data)
            assert r.status_code == 403 and "security token" in r.text, data
        r = c.post("/staff/exercises/backprop/release", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and "another site" in r.text
        r = c.post("/logout", data={})
        assert r.status_code == 403
    jobs = len(site["app"].state.jobs.all())
    for path in ("/staff/autograde", "/staff/exercises/backprop/release"):  # no session at all
        r = httpx.post(site["base"] + path, data={"csrf": csrf})
        assert r.status_code == 401 and "sign in" in r.text.lower(), path
    assert len(site["app"].state.jobs.all()) == jobs
    from grader.server.results import released
    assert "backprop" not in released(site["gradebook"])
    with httpx.Client(base_url=site["base"]) as c:  # the login form: its own token, bound to its cookie
        c.get("/login")
        r = c.post("/login", data={"token": site["tokens"]["prof"]})
        assert r.status_code == 403 and "dlgrade_session" not in r.cookies
        other = httpx.get(f"{site['base']}/login")
        r = c.post("/login", data={"token": site["tokens"]["prof"], "csrf": form_csrf(other.text)})
        assert r.status_code == 403 and "dlgrade_session" not in r.cookies


# --- the staff's page -------------------------------------------------------------------------

def test_staff_page_roster_submissions_failed_gradings_regrade_and_release(site, web):
    prof = web.visitor(site["base"])
    assert prof.sign_in(site["tokens"]["prof"]) == "/staff"
    page = prof.page
    assert page.locator("tr.person").count() >= 4
    _shot(prof, "server-staff-en.png")
    assert page.locator("tr.person[data-person='ali'] td").nth(1).inner_text() == ALI_NAME
    assert page.title() != "pwned"
    assert page.locator("tr.learner").count() >= 2
    ali_cell = page.locator("tr.learner[data-learner='ali'] a.report")
    assert ali_cell.count() == 1
    assert "2 of" in page.locator("tr.learner[data-learner='sara']").inner_text() or \
        "graded" in page.locator("tr.learner[data-learner='sara']").inner_text()
    failed = page.locator("tr.failed-grading")
    assert failed.count() == 1 and "sara" in failed.inner_text() and "the sandbox could not start" in failed.inner_text()
    # a learner's report, before release, for the staff
    with page.expect_navigation(wait_until="load"):
        ali_cell.click()
    assert prof.path() == "/staff/reports/ali/perceptron"
    assert "Feedback for ali" in prof.text() and ALI_NAME in prof.text()
    prof.open("/staff/dashboard")
    assert page.locator("svg").count() >= 1 and "perceptron" in prof.text()
    prof.open("/staff")
    # grade the failed one again
    with page.expect_navigation(wait_until="load"):
        page.click("tr.failed-grading form.regrade button")
    assert prof.path() == "/staff?done=regrade" and "queued again" in prof.text()
    job = site["app"].state.jobs.all()[0]
    assert site["app"].state.jobs.wait(job.id, 240).state == "done"
    prof.open("/staff")
    assert page.locator("tr.failed-grading").count() == 0
    # release perceptron
    with page.expect_navigation(wait_until="load"):
        page.click("tr.exercise[data-exercise='perceptron'] form.release button")
    assert "was released" in prof.text()
    assert "released" in page.locator("tr.exercise[data-exercise='perceptron']").inner_text()
    assert prof.problems() == []


def test_a_ta_sees_the_staff_page_but_cannot_release(site, web):
    tara = web.visitor(site["base"])
    assert tara.sign_in(site["tokens"]["tara"]) == "/staff"
    assert tara.page.locator("form.release").count() == 0 and tara.page.locator("form.autograde").count() == 0
    with httpx.Client(base_url=site["base"], cookies={"dlgrade_session": tara.cookies()["dlgrade_session"]["value"]}) as c:
        r = c.post("/staff/exercises/backprop/release", data={"csrf": form_csrf(c.get("/staff").text)})
        assert r.status_code == 403 and "instructors" in r.text
    assert tara.problems() == []


def test_released_feedback_reaches_the_learner(site, web):
    from grader.server.results import released
    assert "perceptron" in released(site["gradebook"]), "runs after the staff page test released perceptron"
    ali = web.visitor(site["base"])
    ali.sign_in(site["tokens"]["ali"])
    row = ali.page.locator(f"tr.receipt[data-submission='{site['receipts']['ali']['submission_id']}']")
    assert re.search(r"\d+ of \d+ points", row.inner_text())
    with ali.page.expect_navigation(wait_until="load"):
        ali.page.click("tr.exercise[data-exercise='perceptron'] a.feedback")
    assert ali.path() == "/me/feedback/perceptron"
    assert "Feedback for ali" in ali.text() and ali.page.locator("section.exercise").count() == 1
    assert ali.problems() == []
    sara = web.visitor(site["base"])
    sara.sign_in(site["tokens"]["sara"])
    for path in ("/me/feedback/perceptron", "/me/feedback/perceptron?student=ali"):  # her own, whatever is asked
        sara.open(path)
        assert "Feedback for sara" in sara.text() and "ali" not in sara.text("main")
    assert sara.problems() == []


def test_persian_pages_are_right_to_left_with_persian_digits(site, web):
    sara = web.visitor(site["base"])
    sara.sign_in(site["tokens"]["sara"], lang="fa")
    sara.open("/me")  # the language is remembered in a cookie
    assert sara.page.evaluate("document.documentElement.lang") == "fa"
    assert sara.page.evaluate("document.documentElement.dir") == "rtl"
    text = sara.text("main")
    assert "کارهای من" in text and _fa_deadline(site) in text and "۱۰٪" in text  # the late policy too
    _shot(sara, "server-me-fa.png")
    sara.open("/me/feedback/perceptron")
    assert sara.page.evaluate("document.documentElement.dir") == "rtl"
    sara.open("/me?lang=en")
    assert sara.page.evaluate("document.documentElement.dir") == "ltr"
    assert sara.problems() == []
    prof = web.visitor(site["base"], locale="fa-IR")  # a Persian browser gets Persian pages
    prof.sign_in(site["tokens"]["prof"])
    assert prof.page.evaluate("document.documentElement.dir") == "rtl" and "فهرست افراد" in prof.text()
    _shot(prof, "server-staff-fa.png")
    assert prof.problems() == []


def test_cookies_are_secure_behind_https(site):
    """With an https base URL (a TLS proxy in front), the session cookie is Secure."""
    from grader.server.app import create_app
    app = create_app(site["app"].state.course, gradebook=site["gradebook"],
                     settings=site["app"].state.settings.with_values(base_url="https://grader.example.org"))
    with ThreadServer(app) as base, httpx.Client(base_url=base) as c:
        page = c.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()
        login_cookie = page.headers["set-cookie"].split(";")[0]  # a client over http keeps a Secure cookie back
        r = c.post("/login", data={"token": site["tokens"]["ali"], "csrf": form_csrf(page.text)},
                   headers={"Origin": "https://grader.example.org", "Cookie": login_cookie})
        assert r.status_code == 303 and r.headers["location"] == "/me"
        flags = [h.lower() for h in r.headers.get_list("set-cookie") if h.startswith("dlgrade_session=")]
        assert flags and all(f in flags[0] for f in ("secure", "httponly", "samesite=lax", "path=/"))


def test_pages_say_they_load_nothing_from_elsewhere(site):
    r = httpx.get(f"{site['base']}/login")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert not re.search(r"(src|href)=\"(https?:)?//", r.text)


# --- every route, every caller ---------------------------------------------------------------

def _signed_in_client(base: str, token: str | None) -> httpx.Client:
    """An httpx client that signed in through the login form with `token` (None: never signed in)."""
    c = httpx.Client(base_url=base)
    if token is not None:
        r = c.post("/login", data={"token": token, "csrf": form_csrf(c.get("/login").text)})
        assert r.status_code == 303, r.text
    return c


# route -> expected status for: no session, a forged cookie, a revoked session, ali, sara, tara (TA), prof
PAGE_MATRIX = {
    ("GET", "/me"): (303, 303, 303, 200, 200, 303, 303),
    ("GET", "/staff"): (303, 303, 303, 403, 403, 200, 200),
    ("GET", "/staff/dashboard"): (303, 303, 303, 403, 403, 200, 200),
    ("GET", "/me/feedback/perceptron"): (303, 303, 303, 200, 200, 404, 404),  # released by now
    ("GET", "/staff/reports/sara/perceptron"): (303, 303, 303, 403, 403, 200, 200),
    ("GET", "/staff/reports/nobody/perceptron"): (303, 303, 303, 403, 403, 404, 404),
    ("POST", "/staff/gradings/999999/regrade"): (401, 401, 401, 403, 403, 404, 404),
    ("POST", "/staff/exercises/no-such-exercise/release"): (401, 401, 401, 403, 403, 403, 404),
    ("POST", "/staff/autograde"): (401, 401, 401, 403, 403, 403, 303),
}


def test_every_page_route_checks_who_is_asking(site):
    """Runs after the staff page test (perceptron is released; an instructor's autograde starts a job)."""
    from grader.server import sessions
    from grader.server.identity import Person, issue_tokens, revoke_tokens, save_people
    base, tokens = site["base"], site["tokens"]
    save_people(site["gradebook"], [Person("revoked1", "R")])
    (_, token), = issue_tokens(site["gradebook"], ids=["revoked1"])
    clients = [_signed_in_client(base, None), _signed_in_client(base, None), _signed_in_client(base, token)]
    forged = sessions.sign(b"k" * 32, "session", {"p": "prof", "k": 1, "c": "x", "t": int(time.time())})
    clients[1].cookies.set("dlgrade_session", forged)
    revoke_tokens(site["gradebook"], "revoked1")
    clients += [_signed_in_client(base, tokens[who]) for who in ("ali", "sara", "tara", "prof")]
    try:
        for (method, path), expected in PAGE_MATRIX.items():
            got = []
            for c in clients:
                data = None
                if method == "POST":  # the session's own CSRF token (the sign-out form's), where there is one
                    page = next((p for p in (c.get("/staff"), c.get("/me")) if p.status_code == 200), None)
                    data = {"csrf": form_csrf(page.text) if page is not None else "none"}
                r = c.request(method, path, data=data)
                got.append(r.status_code)
                if r.status_code == 303 and method == "GET":
                    assert r.headers["location"] in ("/login", "/me", "/staff"), (path, r.headers["location"])
            assert tuple(got) == expected, (method, path, got)
    finally:
        for c in clients:
            c.close()
    job = site["app"].state.jobs.all()[0]
    assert job.kind == "autograde" and site["app"].state.jobs.wait(job.id, 240).state == "done"


# --- the catalog ------------------------------------------------------------------------------

def test_page_catalog_is_complete_and_compiled():
    pofile = __import__("babel.messages.pofile").messages.pofile
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    with open(REPO / "grader" / "server" / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(REPO), method_map, options_map)}
    pot = pofile.read_po((LOCALE_DIR / "pages.pot").open("rb"))
    assert {m.id for m in pot if m.id} == found, "pages.pot is stale: run pybabel extract (see grader/server/i18n.py)"
    po = pofile.read_po((LOCALE_DIR / "fa" / "LC_MESSAGES" / "pages.po").open("rb"), locale="fa")
    with (LOCALE_DIR / "fa" / "LC_MESSAGES" / "pages.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    placeholder = re.compile(r"%\(\w+\)s")
    for m in po:
        if not m.id:
            continue
        assert m.id in found, f"obsolete entry in fa/pages.po: {m.id!r}"
        assert m.string and not m.fuzzy, f"untranslated: {m.id!r}"
        assert sorted(placeholder.findall(m.id)) == sorted(placeholder.findall(m.string)), m.id
        assert mo.gettext(m.id) == m.string, f"pages.mo is stale ({m.id!r}): run pybabel compile (grader/server/i18n.py)"
    assert found <= {m.id for m in po if m.id}
