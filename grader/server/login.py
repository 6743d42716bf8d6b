"""The learner's login to a course server: the token file `$XDG_CONFIG_HOME/dlgrade/login.json`
(default `~/.config/dlgrade/login.json`), readable by its owner only (0600 in a 0700 folder).

It holds {url, token, id}: the server's base URL, the learner's token and the id the server gave
for it. `dlgrade login` writes it (after the server accepted the token), `dlgrade logout` removes
it, and the learner's commands read it to decide whether they talk to a server. Standard library
only: the learner's commands load this module."""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOGIN_FILE = "login.json"
CONFIG_ENV = "XDG_CONFIG_HOME"
MAX_LOGIN_BYTES = 16 * 1024


class LoginError(Exception):
    """A login file or URL that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Login:
    """Who the learner is on which server: base URL (no trailing slash), token, id."""

    url: str
    token: str
    id: str


def config_dir(environ: dict[str, str] | None = None) -> Path:
    """dlgrade's folder in the user's config folder: $XDG_CONFIG_HOME/dlgrade, else ~/.config/dlgrade."""
    env = os.environ if environ is None else environ
    base = env.get(CONFIG_ENV, "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "dlgrade"


def login_path(environ: dict[str, str] | None = None) -> Path:
    """Where the login is kept."""
    return config_dir(environ) / LOGIN_FILE


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_url(url: str, allow_http: bool = False) -> str:
    """The server's base URL, checked: http(s)://host[:port][/path], no query, no credentials, no
    trailing slash. Plain http is refused for a host other than this machine (the token would cross
    the network in clear) unless `allow_http`."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # a bad port raises here
    except ValueError:
        raise LoginError(f"{text!r} is not a URL; give the server's address, e.g. https://grader.example.org") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoginError(f"{text!r} is not an http(s) URL; give the server's address, e.g. "
                         "https://grader.example.org")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise LoginError(f"{text!r} holds a user name, a query or a fragment; give only the server's address, "
                         "e.g. https://grader.example.org (the token goes in --token)")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_http:
        raise LoginError(f"{text!r} is plain http to another machine: your token would cross the network "
                         "unencrypted; use the https:// address your instructor gave (or --allow-http on a "
                         "network you trust)")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def check_token(token: str) -> str:
    """The token as given by the instructor, stripped; LoginError when it cannot be one."""
    token = (token or "").strip()
    if not token or len(token) > 512 or any(c.isspace() or not c.isprintable() or ord(c) > 126 for c in token):
        raise LoginError("that is not a dlgrade token (a line such as dlg_...); copy the token your instructor "
                         "gave you, without spaces")
    return token


def save_login(login: Login, environ: dict[str, str] | None = None) -> Path:
    """Write the login file in one step, mode 0600, in its 0700 folder; returns its path."""
    path = login_path(environ)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.parent.stat().st_mode & 0o077:
        os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=".login.", dir=path.parent)  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(login), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def load_login(environ: dict[str, str] | None = None) -> Login | None:
    """The saved login, or None when there is none; LoginError when the file cannot be used. A file
    that others may read is made 0600 again (it holds a secret)."""
    path = login_path(environ)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise LoginError(f"cannot read {path}: {err.strerror}; run `dlgrade logout` and log in again") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LoginError(f"{path} is not a file; remove it and run `dlgrade login URL --token TOKEN` again")
        if info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
        data = os.read(fd, MAX_LOGIN_BYTES + 1)
    finally:
        os.close(fd)
    try:
        raw = json.loads(data.decode("utf-8")) if len(data) <= MAX_LOGIN_BYTES else None
        login = Login(url=normalize_url(raw["url"], allow_http=True), token=check_token(raw["token"]),
                      id=str(raw["id"]))
    except (ValueError, TypeError, KeyError, LoginError):
        raise LoginError(f"{path} is not a dlgrade login; run `dlgrade logout`, then `dlgrade login URL --token "
                         "TOKEN` again") from None
    return login


def remove_login(environ: dict[str, str] | None = None) -> Path | None:
    """Remove the login file; its path, or None when there was none."""
    path = login_path(environ)
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    return path


__all__ = ["Login", "LoginError", "config_dir", "login_path", "normalize_url", "check_token", "save_login",
           "load_login", "remove_login", "is_loopback"]
