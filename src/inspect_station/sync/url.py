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
from urllib.parse import quote, unquote, urlencode

from inspect_station.sync.errors import CentralUrlError

SQLITE_PREFIX = "sqlite:///"
PG_SCHEMES = ("postgresql://", "postgres://")
MASK = "***"
"""What a password is shown as."""
_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S*")


@dataclass(frozen=True)
class _Split:
    """A postgresql:// URL cut into its parts by position, before any decoding."""

    scheme: str
    """``postgresql://`` or ``postgres://``."""
    user: str | None
    """The user name as written (percent-encoded or not); None without ``@``."""
    password: str | None
    """The password as written; None without ``user:`` before the ``@``."""
    rest: str
    """Host, port, database and query: everything after the ``@``."""


def _split(text: str) -> _Split:
    """Cut a URL (``scheme://...``) at its LAST ``@``: a password may hold any character.

    A password is often pasted as it is, with ``/``, ``?``, ``#``, ``@`` or ``:`` unencoded;
    generic URL parsers (and libpq) then take part of it for the host, the path or the query.
    The user information can only end at the last ``@``, and the user name at the first ``:``
    before it, so this split never lets a piece of a password into the other parts (a ``@`` in
    a query value must then be written ``%40``).
    """
    scheme, _, after = text.partition("://")
    scheme += "://"
    if "@" not in after:
        return _Split(scheme, None, None, after)
    userinfo, _, rest = after.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return _Split(scheme, user, password if colon else None, rest)


def _query_password(rest: str) -> str | None:
    """The ``password=`` value of a URL's query, as written."""
    _, mark, query = rest.partition("?")
    if not mark:
        return None
    for item in query.split("&"):
        key, _, value = item.partition("=")
        if unquote(key).strip().lower() == "password":
            return value
    return None


def _mask_rest(rest: str) -> str:
    """Host, port, database and query with any ``password=`` value masked."""
    before, mark, query = rest.partition("?")
    if not mark:
        return rest
    items = []
    for item in query.split("&"):
        key = item.partition("=")[0]
        items.append(f"{key}={MASK}" if unquote(key).strip().lower() == "password" else item)
    return before + "?" + "&".join(items)


def _display(parts: _Split) -> str:
    """The URL to show people: the user name kept, any password (userinfo or query) masked."""
    user = ""
    if parts.user is not None:
        user = parts.user + (f":{MASK}" if parts.password is not None else "") + "@"
    return parts.scheme + user + _mask_rest(parts.rest)


def _secrets(parts: _Split) -> list[str]:
    """Every form in which the URL's passwords may turn up in a message."""
    found = []
    for value in (parts.password, _query_password(parts.rest)):
        if value:
            found += [value, unquote(value)]
    return found


def mask_url(url: str) -> str:
    """A central store URL with any password replaced by ``***``: safe to print and to log.

    A URL (of any scheme) is cut at the last ``@`` (see ``_split``) and its query's
    ``password=`` is masked too, whatever characters the password holds; text without ``://``
    is returned as it is.
    """
    text = url.strip()
    if "://" in text:
        return _display(_split(text))
    return url


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every occurrence of the given secrets (and of URL passwords) masked."""
    for secret in secrets:
        if secret:
            for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
                text = text.replace(form, MASK)
    return _IN_TEXT.sub(lambda m: mask_url(m.group()), text)


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
    shown: str | None = field(default=None, compare=False)
    """The URL as it is shown, password masked (made from its parts when it was parsed)."""

    @property
    def display(self) -> str:
        """The URL with its password masked."""
        return self.shown if self.shown is not None else mask_url(self.url)

    @property
    def password(self) -> str | None:
        """The password in the URL, if any (to scrub it from error messages)."""
        value = self.params.get("password")
        return str(value) if value else None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every form of the URL's password (as written, decoded) to scrub from messages."""
        found = [self.password] if self.password else []
        if self.backend == "postgresql":
            found += _secrets(_split(self.url.strip()))
        return tuple(dict.fromkeys(found))

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
    """Parse a central store URL; CentralUrlError (never quoting a password) if unusable."""
    text = (url or "").strip()
    if text.startswith(SQLITE_PREFIX):
        rest = text[len(SQLITE_PREFIX) :]
        if not rest or "?" in rest or "#" in rest:
            raise CentralUrlError(
                f"The central store URL {text} should be sqlite:///path/to/central.db "
                "with nothing after the file name."
            )
        return CentralUrl(text, "sqlite", path=Path(rest))
    if text.lower().startswith(PG_SCHEMES):
        from psycopg.conninfo import conninfo_to_dict

        parts = _split(text)
        shown = _display(parts)
        # libpq parses the rest (host list, port, database, every option); the user name and
        # password go to it percent-encoded, so it cannot take them for anything else.
        userinfo = ""
        if parts.user is not None:
            userinfo = quote(unquote(parts.user), safe="")
            if parts.password is not None:
                userinfo += ":" + quote(unquote(parts.password), safe="")
            userinfo += "@"
        try:
            params = conninfo_to_dict("postgresql://" + userinfo + parts.rest)
        except Exception as exc:  # psycopg.ProgrammingError for a malformed URI
            detail = scrub(str(exc).strip().rstrip("."), *_secrets(parts))
            raise CentralUrlError(
                f"The central store URL {shown} is not a valid PostgreSQL URL: {detail} "
                "(in a user name or password write % as %25)."
            ) from None
        return CentralUrl(text, "postgresql", params=params, shown=shown)
    raise CentralUrlError(
        f"The central store URL {mask_url(text) or '(empty)'} is neither "
        "sqlite:///path/central.db nor postgresql://user@host/database."
    )


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
