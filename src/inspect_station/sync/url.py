"""Central store URLs: which backend, where, and how to show one without its password.

Each central backend is a ``CentralStore`` class in its own module ``sync/central_<name>.py``
that registers itself (``register_backend``) and reads its own URLs: ``sqlite:///path`` the
embedded SQLite store (``central_sqlite``), ``postgresql://`` (or ``postgres://``) libpq URIs
(``central_pg``). A URL is offered to the registered backends; when none takes it, the module
named by its scheme (``central_<scheme>``) is imported, then every ``central_*`` module: a
backend (and its database driver) is loaded only when a URL needs it, and a new backend is one
new module.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar
from urllib.parse import quote, unquote, urlencode

from inspect_station.sync.errors import CentralUrlError

MASK = "***"
"""What a password is shown as."""
_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S*")


@dataclass(frozen=True)
class SplitUrl:
    """A postgresql:// URL cut into its parts by position, before any decoding."""

    scheme: str
    """``postgresql://`` or ``postgres://``."""
    user: str | None
    """The user name as written (percent-encoded or not); None without ``@``."""
    password: str | None
    """The password as written; None without ``user:`` before the ``@``."""
    rest: str
    """Host, port, database and query: everything after the ``@``."""


def split_url(text: str) -> SplitUrl:
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
        return SplitUrl(scheme, None, None, after)
    userinfo, _, rest = after.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return SplitUrl(scheme, user, password if colon else None, rest)


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


def shown_url(parts: SplitUrl) -> str:
    """The URL to show people: the user name kept, any password (userinfo or query) masked."""
    user = ""
    if parts.user is not None:
        user = parts.user + (f":{MASK}" if parts.password is not None else "") + "@"
    return parts.scheme + user + _mask_rest(parts.rest)


def password_forms(parts: SplitUrl) -> list[str]:
    """Every form in which the URL's passwords may turn up in a message."""
    found = []
    for value in (parts.password, _query_password(parts.rest)):
        if value:
            found += [value, unquote(value)]
    return found


def mask_url(url: str) -> str:
    """A central store URL with any password replaced by ``***``: safe to print and to log.

    A URL (of any scheme) is cut at the last ``@`` (see ``split_url``) and its query's
    ``password=`` is masked too, whatever characters the password holds; text without ``://``
    is returned as it is.
    """
    text = url.strip()
    if "://" in text:
        return shown_url(split_url(text))
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
    """The name of the backend that reads it (``sqlite``, ``postgresql``, ...)."""
    path: Path | None = None
    """The database file, for a backend that keeps one (the embedded store)."""
    params: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Connection parameters, for a database server (including any password)."""
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
        found += backend_named(self.backend).url_secrets(self)
        return tuple(dict.fromkeys(found))

    @property
    def identity(self) -> str:
        """Which central store this is, without credentials or options: the sync state's key."""
        return backend_named(self.backend).url_identity(self)


class Backend(Protocol):
    """A central backend as URLs know it: a ``CentralStore`` class, registered by its module."""

    name: ClassVar[str]
    """Its name (``CentralUrl.backend``)."""
    example: ClassVar[str]
    """A URL it reads, for messages (``sqlite:///path/central.db``)."""
    order: ClassVar[int]
    """Where it is offered a URL and listed in messages, lowest first."""

    @classmethod
    def accepts(cls, text: str) -> bool:
        """Whether ``text`` is a URL of this backend (then ``parse_url`` reads it or refuses)."""
        ...

    @classmethod
    def parse_url(cls, text: str) -> CentralUrl:
        """Read a URL of this backend; CentralUrlError (never quoting a password) if unusable."""
        ...

    @classmethod
    def url_identity(cls, url: CentralUrl) -> str:
        """Which store a URL names, without credentials or options."""
        ...

    @classmethod
    def url_secrets(cls, url: CentralUrl) -> list[str]:
        """Forms of a password the URL holds besides ``CentralUrl.password``."""
        ...

    @classmethod
    def connect(cls, url: CentralUrl, create: bool) -> Any:
        """Open the store (a ``CentralStore``); an embedded one is created if ``create``."""
        ...


_BACKENDS: dict[str, type[Backend]] = {}
"""Registered backends, by name."""
_BACKEND_PACKAGE = "inspect_station.sync"
_BACKEND_MODULE = "central_"


_B = TypeVar("_B", bound=type[Backend])


def register_backend(cls: _B) -> _B:
    """Register a backend class (use as a class decorator); a name is registered once."""
    if cls.name in _BACKENDS and _BACKENDS[cls.name] is not cls:
        raise ValueError(f"central backend {cls.name!r} is registered twice")
    _BACKENDS[cls.name] = cls
    return cls


def _registered() -> list[type[Backend]]:
    return sorted(_BACKENDS.values(), key=lambda b: (b.order, b.name))


def _import_backend(name: str) -> None:
    """Import ``sync/central_<name>.py`` if there is such a module."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return
    module = f"{_BACKEND_PACKAGE}.{_BACKEND_MODULE}{name}"
    if importlib.util.find_spec(module) is not None:
        importlib.import_module(module)


def _import_every_backend() -> None:
    """Import every ``sync/central_*.py`` module (each registers the backend it defines)."""
    package = importlib.import_module(_BACKEND_PACKAGE)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith(_BACKEND_MODULE):
            importlib.import_module(f"{_BACKEND_PACKAGE}.{info.name}")


def _accepting(text: str) -> type[Backend] | None:
    return next((b for b in _registered() if b.accepts(text)), None)


def backend_for(text: str) -> type[Backend] | None:
    """The backend that reads URL ``text`` (loading it if need be); None if no backend does."""
    found = _accepting(text)
    if found is None and "://" in text:
        _import_backend(text.partition("://")[0].lower())
        found = _accepting(text)
    if found is None:
        _import_every_backend()
        found = _accepting(text)
    return found


def backend_named(name: str) -> type[Backend]:
    """The backend registered as ``name`` (loading it if need be); KeyError if there is none."""
    if name not in _BACKENDS:
        _import_backend(name)
    if name not in _BACKENDS:
        _import_every_backend()
    return _BACKENDS[name]


def parse_central_url(url: str) -> CentralUrl:
    """Parse a central store URL; CentralUrlError (never quoting a password) if unusable."""
    text = (url or "").strip()
    backend = backend_for(text)
    if backend is not None:
        return backend.parse_url(text)
    examples = [b.example for b in _registered()]
    choices = (
        f"neither {examples[0]} nor {examples[1]}"
        if len(examples) == 2
        else "none of " + ", ".join(examples)
    )
    raise CentralUrlError(f"The central store URL {mask_url(text) or '(empty)'} is {choices}.")


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
