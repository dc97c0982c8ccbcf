"""Central store URLs: which backend, where, and how to show one without its password.

``sqlite:///relative/central.db`` and ``sqlite:////absolute/central.db`` name the embedded SQLite
store (the part after ``sqlite:///`` is the file path, as in SQLAlchemy); ``postgresql://`` (or
``postgres://``) URLs are libpq connection URIs and every libpq option in them (``sslmode``,
``sslrootcert``, ``connect_timeout``, ``host=/socket/dir``, ...) is passed through unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from inspect_station.sync.errors import CentralUrlError

SQLITE_PREFIX = "sqlite:///"
PG_SCHEMES = ("postgresql://", "postgres://")
_USERINFO_PASSWORD = re.compile(r"(://[^:/@?#]*):([^@/?#]*)@")
_QUERY_PASSWORD = re.compile(r"((?:^|[?&\s])password=)([^&\s]*)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``: safe to print and to log."""
    masked = _USERINFO_PASSWORD.sub(r"\1:***@", url)
    return _QUERY_PASSWORD.sub(r"\1***", masked)


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every occurrence of the given secrets (and URL passwords) masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
            encoded = quote(secret, safe="")
            if encoded != secret:
                text = text.replace(encoded, "***")
    return mask_url(text)


@dataclass(frozen=True)
class CentralUrl:
    """A parsed central store URL."""

    url: str = field(repr=False)
    """The URL as configured (may hold a password: never print it, print ``display``)."""
    backend: str
    """``sqlite`` or ``postgresql``."""
    path: Path | None = None
    """The SQLite file, for the embedded store."""
    params: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """libpq connection parameters, for PostgreSQL (including any password)."""

    @property
    def display(self) -> str:
        """The URL with its password masked."""
        return mask_url(self.url)

    @property
    def password(self) -> str | None:
        """The password in the URL, if any (to scrub it from error messages)."""
        value = self.params.get("password")
        return str(value) if value else None

    @property
    def identity(self) -> str:
        """Which central store this is, without credentials or options: the sync state's key."""
        if self.backend == "sqlite":
            assert self.path is not None
            return f"sqlite:///{self.path.resolve()}"
        host = str(self.params.get("host") or "")
        port = str(self.params.get("port") or "5432")
        dbname = str(self.params.get("dbname") or self.params.get("user") or "")
        return f"postgresql://{host}:{port}/{dbname}"


def parse_central_url(url: str) -> CentralUrl:
    """Parse a central store URL; CentralUrlError (with the password masked) if unusable."""
    text = (url or "").strip()
    if text.startswith(SQLITE_PREFIX):
        rest = text[len(SQLITE_PREFIX) :]
        if not rest or "?" in rest or "#" in rest:
            raise CentralUrlError(
                f"The central store URL {mask_url(text)} should be sqlite:///path/to/central.db "
                "with nothing after the file name."
            )
        return CentralUrl(text, "sqlite", path=Path(rest))
    if text.startswith(PG_SCHEMES):
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict(text)
        except Exception as exc:  # psycopg.ProgrammingError for a malformed URI
            raise CentralUrlError(
                f"The central store URL {mask_url(text)} is not a valid PostgreSQL URL: "
                f"{scrub(str(exc), _password_guess(text))}."
            ) from None
        return CentralUrl(text, "postgresql", params=params)
    raise CentralUrlError(
        f"The central store URL {mask_url(text)!r} is neither sqlite:///path/central.db nor "
        "postgresql://user@host/database."
    )


def _password_guess(url: str) -> str | None:
    """The userinfo password of a URL that libpq could not parse, to keep it out of messages."""
    m = _USERINFO_PASSWORD.search(url)
    return m.group(2) if m else None


def postgres_url(params: dict[str, Any]) -> str:
    """A postgresql:// URL for libpq parameters (a socket-directory host goes in the query)."""
    rest = dict(params)
    user = rest.pop("user", None)
    password = rest.pop("password", None)
    host = rest.pop("host", None)
    port = rest.pop("port", None)
    dbname = rest.pop("dbname", None)
    netloc = ""
    if user:
        netloc = quote(str(user), safe="")
        if password:
            netloc += ":" + quote(str(password), safe="")
        netloc += "@"
    if host and not str(host).startswith("/") and "," not in str(host):
        netloc += f"[{host}]" if ":" in str(host) else str(host)
        if port:
            netloc += f":{port}"
    else:
        if host:
            rest["host"] = host
        if port:
            rest["port"] = port
    url = f"postgresql://{netloc}/{quote(str(dbname), safe='') if dbname else ''}"
    if rest:
        url += "?" + urlencode({k: str(v) for k, v in rest.items()})
    return url
