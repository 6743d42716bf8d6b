"""The application `dlgrade serve` runs: `create_app(course)` builds one FastAPI app over the course
and its gradebook (app.state.course, .gradebook, .settings, and the limiter, locks and jobs the
routes share), with the JSON API (api.py) and the web pages (pages.py); `serve` runs it with uvicorn
in one process."""

from __future__ import annotations

import importlib.util
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from grader.server import api
from grader.server.limits import RateLimiter
from grader.server.settings import ServerSettings, load_settings, uploads_root
from grader.server.uploads import SubmitLocks, clean_incoming
from grader.server.jobs import Jobs

log = logging.getLogger("dlgrade.server")
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
                    "x-frame-options": "DENY"}


def _prepare(course, gradebook) -> dict[str, str]:
    """Record the course's exercises in the gradebook (submissions refer to them); their titles."""
    titles = {}
    for ex in course.all_exercises():
        titles[ex.id] = ex.title.get("en", ex.id)
        gradebook.upsert_exercise(ex.id, titles[ex.id], ex.content_hash())
    return titles


def create_app(course, *, settings: ServerSettings | None = None, gradebook=None) -> FastAPI:
    """The server's application for `course` (its [server] settings unless `settings`; its
    gradebook unless `gradebook`, an open `Gradebook`)."""
    from grader.gradebook.store import Gradebook
    settings = settings or load_settings(course)
    own = gradebook is None
    gradebook = gradebook or Gradebook(course.gradebook_url)
    root = uploads_root(course)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    left = clean_incoming(root)
    if left:
        log.warning("removed %d upload(s) a stopped server left half written (never acknowledged)", left)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from grader.server.grading import resume_grading, stop_grading
        resumed = resume_grading(app)  # on-submit gradings a stopped server left queued
        if resumed:
            log.info("re-queued %d grading(s) on submit left by a stopped server", resumed)
        try:
            yield
        finally:
            stop_grading(app)
            app.state.jobs.close()
            if own:
                gradebook.close()

    app = FastAPI(title="dlgrade", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.course = course
    app.state.gradebook = gradebook
    app.state.settings = settings
    app.state.titles = _prepare(course, gradebook)
    app.state.limiter = RateLimiter(settings.rate_per_hour)
    app.state.locks = SubmitLocks()
    app.state.jobs = Jobs()

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith(api.PREFIX):
            response.headers.setdefault("cache-control", "no-store")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, err: StarletteHTTPException):
        if request.url.path.startswith("/api/"):
            message = {404: f"no such endpoint {request.method} {request.url.path[:200]}; the API is under "
                            f"{api.PREFIX}", 405: f"{request.method} is not allowed on {request.url.path[:200]}"}
            return api.error_response(err.status_code, message.get(err.status_code, str(err.detail)),
                                      getattr(err, "headers", None))
        from fastapi.exception_handlers import http_exception_handler
        return await http_exception_handler(request, err)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError):
        first = (err.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return api.error_response(422, f"{where or 'the request'}: {first.get('msg', 'invalid')}; fix the request")

    @app.exception_handler(Exception)
    async def _fault(request: Request, err: Exception):
        log.error("server fault on %s %s: %s", request.method, request.url.path[:200], type(err).__name__)
        return api.error_response(500, "the server failed on this request (its log says why); nothing was "
                                       "changed: try again later or tell your instructor")

    api.register(app)
    if importlib.util.find_spec("grader.server.pages") is not None:
        from grader.server import pages
        pages.register(app)
    return app


def uvicorn_config(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, **options):
    """uvicorn's Config for the application: the h11 protocol with a deadline for request headers
    (the settings' upload_idle_s, grader/server/protocol.py), a short keep-alive, no server header."""
    import uvicorn

    from grader.server.protocol import header_deadline_protocol
    values = {"log_level": "info", "timeout_keep_alive": 5, "server_header": False, "lifespan": "on",
              "http": header_deadline_protocol(max(1.0, app.state.settings.upload_idle_s)), **options}
    return uvicorn.Config(app, host=host, port=port, **values)


def serve(app: FastAPI, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the application with uvicorn in this process until it is stopped."""
    import uvicorn
    uvicorn.Server(uvicorn_config(app, host, port)).run()


__all__ = ["create_app", "serve", "uvicorn_config", "SECURITY_HEADERS"]
