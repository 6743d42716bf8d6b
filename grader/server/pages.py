"""The web pages of `dlgrade serve` (HTML routes on the same application as the JSON API).

    GET  /                 -> /me (a learner), /staff (a TA or instructor), or /login
    GET  /login, POST /login (token -> session cookie), POST /logout
    GET  /me               a learner's submissions with receipts, deadlines, released feedback
    GET  /me/feedback/{exercise}                 the learner's own released report (grader/report)
    GET  /staff            roster, who submitted what, failed gradings, release per exercise
    GET  /staff/dashboard  the class dashboard (grader/report)
    GET  /staff/reports/{student}/{exercise}     a learner's report, released or not (staff only)
    POST /staff/gradings/{id}/regrade            (staff)
    POST /staff/exercises/{exercise}/release     (instructor)
    POST /staff/autograde                        (instructor)
    GET  /assets/pages.css

Sessions and CSRF are `sessions.py`; what each page shows is `pageviews.py`; the templates are
`templates/*.html` (autoescaped: every value from a learner or the sandbox is escaped). Pages
load nothing from off the server and run no script; each answer carries a Content-Security-Policy
that says so, `X-Frame-Options: DENY`, `nosniff` and `Cache-Control: no-store`. `?lang=fa|en`
chooses the language and keeps it in a cookie; Persian pages are right-to-left.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from grader import __version__
from grader.server import sessions
from grader.server.i18n import LANGS, N_, TEMPLATES_DIR, choose_lang, gettext_for, render
from grader.server import pageviews
from grader.server.pageviews import PageError

PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
MAX_FORM_BYTES = 16 * 1024

# what a redirect after a staff action says (`?done=`): fixed texts, never a value from the request
DONE = {
    "regrade": (N_("The grading was queued again."), "ok"),
    "release": (N_("The feedback was released: its learners can read it now."), "ok"),
    "autograde": (N_("Autograde started in the background; reload this page to follow it."), "ok"),
}


def _headers(csp: str = PAGE_CSP) -> dict:
    return {"Content-Security-Policy": csp, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def _html(request, body: str, status: int = 200, csp: str = PAGE_CSP):
    from fastapi.responses import HTMLResponse
    response = HTMLResponse(body, status_code=status, headers=_headers(csp))
    asked = request.query_params.get("lang")
    if asked in LANGS and request.cookies.get(sessions.LANG_COOKIE) != asked:
        sessions.set_cookie(response, request.app, sessions.LANG_COOKIE, asked, 365 * 24 * 3600)
    return response


def _redirect(request, to: str):
    from fastapi.responses import RedirectResponse
    return RedirectResponse(to, status_code=303, headers=_headers())


def _common(request, lang: str, session) -> dict:
    return {"course_title": request.app.state.course.title, "version": __version__, "notice": None,
            "notice_kind": "", "person": session.person if session else None,
            "csrf": session.csrf if session else ""}


def _message(request, lang: str, session, status: int, message: str):
    gettext = gettext_for(lang)
    back, back_text = ("/login", gettext("Sign in")) if session is None else \
        (("/staff", gettext("Back to the staff page")) if session.person.is_staff else ("/me", gettext("Back to my work")))
    heading = {401: gettext("Please sign in"), 403: gettext("Not allowed"), 404: gettext("Not found"),
               413: gettext("Too large")}.get(status, gettext("Refused"))
    body = render(lang, "message.html", **_common(request, lang, session), heading=heading, message=message,
                  back=back, back_text=back_text)
    return _html(request, body, status)


async def _form(request) -> dict[str, str]:
    """The fields of a small urlencoded form (PageError for anything else)."""
    lang = choose_lang(request)
    gettext = gettext_for(lang)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, gettext("The form is too large; reload the page and send it again."))
    if not body:
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise PageError(415, gettext("This address takes the page's own forms only; open the page and use its button."))
    try:
        fields = parse_qs(bytes(body).decode("utf-8"), keep_blank_values=True, max_num_fields=20, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, gettext("The form could not be read; reload the page and send it again.")) from None
    return {k: v[0] for k, v in fields.items()}


async def _signed_in_post(request, *, staff: bool = False, instructor: bool = False):
    """(session, form) of a POST from a signed-in page whose CSRF token is right; PageError else."""
    gettext = gettext_for(choose_lang(request))
    session = await run_in_threadpool(sessions.current_session, request)
    if session is None:
        raise PageError(401, gettext("Your session has ended or was never started; sign in again."))
    form = await _form(request)
    try:
        sessions.check_csrf(request, session, form.get(sessions.CSRF_FIELD))
    except sessions.CsrfError as err:
        raise _csrf_refused(err, gettext) from None
    _allow(session, gettext, staff=staff, instructor=instructor)
    return session, form


def _csrf_refused(err, gettext, login: bool = False) -> PageError:
    """The page's refusal of a form that failed its CSRF check (sessions.CsrfError)."""
    if err.kind == "origin":
        return PageError(403, gettext("This form was sent from another site; open the page on this server and "
                                      "send it again."))
    if login:
        return PageError(403, gettext("The sign-in form has expired or was not sent by this site; sign in again."))
    return PageError(403, gettext("The form's security token is missing or wrong; reload the page and try again."))


def _allow(session, gettext, *, staff: bool = False, instructor: bool = False) -> None:
    if instructor and not session.person.is_instructor:
        raise PageError(403, gettext("Only the course's instructors may do this."))
    if staff and not session.person.is_staff:
        raise PageError(403, gettext("This page is for the course's staff; your own work is on My work."))


def register(app) -> None:
    """Add the pages' routes to the server's FastAPI application."""
    from fastapi.responses import FileResponse

    router = APIRouter(include_in_schema=False)

    def guarded(handler):
        """Run a page handler; its PageError becomes the message page with its status."""
        import functools

        @functools.wraps(handler)
        async def run(request: Request, **kwargs):
            """The handler, its PageError shown as a page."""
            try:
                return await handler(request, **kwargs)
            except PageError as err:
                session = await run_in_threadpool(sessions.current_session, request)
                if err.status == 401:
                    session = None
                return _message(request, choose_lang(request), session, err.status, err.message)
        return run

    async def signed_in(request, *, staff: bool = False):
        """The request's session (None: not signed in); PageError 403 for a learner on a staff page."""
        session = await run_in_threadpool(sessions.current_session, request)
        if session is not None:
            _allow(session, gettext_for(choose_lang(request)), staff=staff)
        return session

    @router.get("/assets/pages.css")
    async def stylesheet():
        """The pages' stylesheet (same origin: no page loads anything from elsewhere)."""
        return FileResponse(TEMPLATES_DIR / "pages.css", media_type="text/css",
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=3600"})

    @router.get("/")
    @guarded
    async def home(request: Request):
        """Where a person starts: their page, or the login page."""
        session = await signed_in(request)
        if session is None:
            return _redirect(request, "/login")
        return _redirect(request, "/staff" if session.person.is_staff else "/me")

    @router.get("/login")
    async def login_page(request: Request):
        """The login form (a fresh CSRF token in its own cookie)."""
        return await run_in_threadpool(_login_page, request, None, 200)

    @router.post("/login")
    @guarded
    async def login(request: Request):
        """Sign in with a token: the session cookie, then the person's page."""
        lang = choose_lang(request)
        gettext = gettext_for(lang)
        form = await _form(request)
        try:
            sessions.check_login_csrf(request, form.get(sessions.CSRF_FIELD))
        except sessions.CsrfError as err:
            return await run_in_threadpool(_login_page, request, _csrf_refused(err, gettext, login=True).message, 403)
        return await run_in_threadpool(_sign_in, request, form.get("token", "").strip())

    @router.post("/logout")
    @guarded
    async def logout(request: Request):
        """Sign out (the form's CSRF token checked): the session cookie removed."""
        session = await run_in_threadpool(sessions.current_session, request)
        form = await _form(request)
        if session is not None:
            try:
                sessions.check_csrf(request, session, form.get(sessions.CSRF_FIELD))
            except sessions.CsrfError as err:
                raise _csrf_refused(err, gettext_for(choose_lang(request))) from None
        response = _redirect(request, "/login")
        sessions.end_session(request, response)
        return response

    @router.get("/me")
    @guarded
    async def me(request: Request):
        """A learner's page: their receipts, deadlines and released feedback."""
        session = await signed_in(request)
        if session is None:
            return _redirect(request, "/login")
        if session.person.is_staff:
            return _redirect(request, "/staff")
        lang = choose_lang(request)
        view = await run_in_threadpool(pageviews.learner_page, request.app, session.person, lang)
        return _html(request, render(lang, "me.html", **_common(request, lang, session), **view))

    @router.get("/me/feedback/{exercise}")
    @guarded
    async def my_feedback(request: Request, exercise: str):
        """The learner's own feedback report on an exercise, once released."""
        session = await signed_in(request)
        if session is None:
            return _redirect(request, "/login")
        lang = choose_lang(request)
        page = await run_in_threadpool(pageviews.learner_report, request.app, session.person.id, exercise, lang,
                                       session.person.is_staff)
        return _html(request, page, csp=REPORT_CSP)

    @router.get("/staff")
    @guarded
    async def staff(request: Request):
        """The staff page: exercises, failed gradings, who submitted what, roster."""
        session = await signed_in(request, staff=True)
        if session is None:
            return _redirect(request, "/login")
        lang = choose_lang(request)
        view = await run_in_threadpool(pageviews.staff_page, request.app, session.person, lang)
        common = _common(request, lang, session)
        done = DONE.get(request.query_params.get("done", ""))
        if done is not None:
            common.update(notice=gettext_for(lang)(done[0]), notice_kind=done[1])
        return _html(request, render(lang, "staff.html", **common, **view))

    @router.get("/staff/dashboard")
    @guarded
    async def dashboard(request: Request):
        """The class dashboard of grader/report."""
        session = await signed_in(request, staff=True)
        if session is None:
            return _redirect(request, "/login")
        page = await run_in_threadpool(pageviews.dashboard, request.app, choose_lang(request))
        return _html(request, page, csp=REPORT_CSP)

    @router.get("/staff/reports/{student}/{exercise}")
    @guarded
    async def report(request: Request, student: str, exercise: str):
        """A learner's report for the staff, released or not."""
        session = await signed_in(request, staff=True)
        if session is None:
            return _redirect(request, "/login")
        page = await run_in_threadpool(pageviews.learner_report, request.app, student, exercise,
                                       choose_lang(request), True)
        return _html(request, page, csp=REPORT_CSP)

    @router.post("/staff/gradings/{grading_id}/regrade")
    @guarded
    async def regrade(request: Request, grading_id: int):
        """Grade a failed grading's submission again (a background job)."""
        session, _ = await _signed_in_post(request, staff=True)
        await run_in_threadpool(pageviews.regrade, request.app, session.person, grading_id, choose_lang(request))
        return _redirect(request, "/staff?done=regrade")

    @router.post("/staff/exercises/{exercise}/release")
    @guarded
    async def release(request: Request, exercise: str):
        """Release an exercise's feedback to its learners (instructors)."""
        session, _ = await _signed_in_post(request, staff=True, instructor=True)
        await run_in_threadpool(pageviews.release, request.app, session.person, exercise, choose_lang(request))
        return _redirect(request, "/staff?done=release")

    @router.post("/staff/autograde")
    @guarded
    async def autograde(request: Request):
        """Autograde the course in the background (instructors)."""
        session, _ = await _signed_in_post(request, staff=True, instructor=True)
        await run_in_threadpool(pageviews.autograde, request.app, session.person, choose_lang(request))
        return _redirect(request, "/staff?done=autograde")

    app.include_router(router)


def _login_page(request, error: str | None, status: int):
    lang = choose_lang(request)
    nonce = sessions.login_nonce()
    body = render(lang, "login.html", **_common(request, lang, sessions.current_session(request)), error=error,
                  login_csrf=nonce)
    response = _html(request, body, status)
    sessions.set_login_cookie(request, response, nonce)
    return response


def _sign_in(request, token: str):
    from grader.server.identity import lookup
    gettext = gettext_for(choose_lang(request))
    response = _redirect(request, "/")
    session = sessions.start_session(request, response, token)
    if session is not None:
        response.headers["location"] = "/staff" if session.person.is_staff else "/me"
        return response
    _, why = lookup(request.app.state.gradebook, token)
    if why == "revoked":
        message = gettext("This token was revoked; ask your instructor for a new one.")
    elif not token:
        message = gettext("Enter your token.")
    else:
        message = gettext("This token is not known to this course; check that you copied it whole (it starts with dlg_).")
    return _login_page(request, message, 401)


__all__ = ["register", "PageError", "PAGE_CSP", "REPORT_CSP"]
