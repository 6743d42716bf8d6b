"""The sandbox side of a grading: imports the learner's submission and answers requests.

Started by `grader.sandbox` as `python -I runner.py REQUEST_FD RESPONSE_FD ENTRY` inside the
sandbox's limits, with only this file, `wire.py` and the submission visible. It receives inputs
and returns data (see `wire.py`); it never receives a test, an expected value, a reference
solution or a held-out label. Whatever the submission does to this process (monkeypatching,
printing, exiting) only changes the answers it gives, which the trusted side checks.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import traceback

# Python runs with -I (no script directory on sys.path); wire.py is bound next to this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402

MAX_TEXT = 4000


def _learner_traceback(exc: BaseException, entry_dir: str) -> str:
    """The traceback lines that belong to the learner's files, and the exception line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(f.filename).startswith(entry_dir + os.sep)]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-MAX_TEXT:]


def _describe_exception(exc: BaseException, entry_dir: str) -> dict:
    return {
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:MAX_TEXT],
        "traceback": _learner_traceback(exc, entry_dir),
    }


def _versions() -> dict:
    import numpy
    return {"python": platform.python_version(), "numpy": numpy.__version__}


class Session:
    """The request loop of one sandbox process."""

    def __init__(self, req_fd: int, resp_fd: int, entry: str):
        self.req_fd = req_fd
        self.resp_fd = resp_fd
        self.entry = os.path.abspath(entry)
        self.entry_dir = os.path.dirname(self.entry)
        self.module = None
        self.handlers = {"import": self.do_import, "call": self.do_call}

    def send(self, header: dict, value=None) -> None:
        try:
            data = wire.encode(header, value)
        except wire.Unsendable as err:
            data = wire.encode({"status": "unsendable", "message": str(err)})
        wire.write_frame(self.resp_fd, data)

    def do_import(self, request, _value):
        name = os.path.splitext(os.path.basename(self.entry))[0]
        sys.path.insert(0, self.entry_dir)
        spec = importlib.util.spec_from_file_location(name, self.entry)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # SyntaxError, ImportError, SystemExit, anything
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"status": "raised", "error": _describe_exception(exc, self.entry_dir)}, None
        self.module = module
        names = sorted(n for n in dir(module) if callable(getattr(module, n, None)) and not n.startswith("_"))
        return {"status": "ok", "device": "cpu"}, names

    def do_call(self, request, value):
        fn_name = request.get("function")
        if self.module is None:
            return {"status": "error", "message": "the submission is not imported"}, None
        fn = getattr(self.module, fn_name, None) if isinstance(fn_name, str) else None
        if fn is None or not callable(fn):
            return {"status": "missing", "function": fn_name}, None
        args, kwargs = value if isinstance(value, (list, tuple)) and len(value) == 2 else ((), {})
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"status": "raised", "error": _describe_exception(exc, self.entry_dir)}, None
        return {"status": "ok"}, result

    def serve(self) -> None:
        import numpy as np
        while True:
            try:
                frame = wire.read_frame(self.req_fd, max_bytes=1 << 31)
            except EOFError:
                return
            header, value = wire.decode(frame, make_rng=np.random.default_rng)
            handler = self.handlers.get(header.get("op"))
            if handler is None:
                return
            response, result = handler(header, value)
            sys.stdout.flush()
            sys.stderr.flush()
            self.send(response, result)


def main(argv: list[str]) -> None:
    req_fd, resp_fd, entry = int(argv[1]), int(argv[2]), argv[3]
    for fd in (req_fd, resp_fd):
        os.set_inheritable(fd, False)
    sys.dont_write_bytecode = True
    session = Session(req_fd, resp_fd, entry)
    session.send({"status": "ready", "versions": _versions()})  # before any learner code runs
    session.serve()


if __name__ == "__main__":
    main(sys.argv)
