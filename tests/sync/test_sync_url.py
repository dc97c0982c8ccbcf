"""Central store URLs: backends, libpq options passed through, passwords never shown."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from inspect_station.config import StationConfig
from inspect_station.sync import CentralUrlError, mask_url, parse_central_url
from inspect_station.sync.url import postgres_url, scrub


def test_embedded_default_is_a_sqlite_file_in_the_data_dir(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("INSPECT_STATION_DATA", str(tmp_path / "data"))
    url = parse_central_url(StationConfig(station="S").central_url)
    assert url.backend == "sqlite"
    assert url.path == tmp_path / "data" / "central.db"
    assert url.identity == f"sqlite:///{tmp_path / 'data' / 'central.db'}"


def test_relative_sqlite_path():
    assert parse_central_url("sqlite:///central.db").path == Path("central.db")


def test_postgres_url_keeps_every_libpq_option():
    url = parse_central_url(
        "postgresql://bench3:s3cr%40t@qa-db:6432/inspection?sslmode=verify-full"
        "&sslrootcert=/etc/ca.pem&connect_timeout=3&application_name=bench3"
    )
    assert url.backend == "postgresql"
    assert url.params == {
        "user": "bench3",
        "password": "s3cr@t",
        "host": "qa-db",
        "port": "6432",
        "dbname": "inspection",
        "sslmode": "verify-full",
        "sslrootcert": "/etc/ca.pem",
        "connect_timeout": "3",
        "application_name": "bench3",
    }
    assert url.password == "s3cr@t"
    assert url.identity == "postgresql://qa-db:6432/inspection"
    assert "s3cr" not in url.display and "s3cr" not in repr(url)
    assert url.display.startswith("postgresql://bench3:***@qa-db:6432/inspection?sslmode=")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        (
            "postgres://u:p%2Fw@h:5432/db?sslmode=require",
            "postgres://u:***@h:5432/db?sslmode=require",
        ),
        (
            "postgresql://u@h/db?password=pw&sslmode=disable",
            "postgresql://u@h/db?password=***&sslmode=disable",
        ),
        ("postgresql://h/db", "postgresql://h/db"),
        ("sqlite:////var/lib/central.db", "sqlite:////var/lib/central.db"),
    ],
)
def test_mask_url(url: str, masked: str):
    assert mask_url(url) == masked


def test_scrub_removes_a_password_wherever_it_appears():
    assert (
        scrub("auth failed for pw=hunter2 (hunter2)", "hunter2") == "auth failed for pw=*** (***)"
    )
    assert scrub("see postgresql://a:b@c/d", None) == "see postgresql://a:***@c/d"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:hunter2@h/db",
        "sqlite:///",
        "sqlite:///c.db?mode=ro",
        "postgresql://u:hunter2@h/db?no_such_option=1",
        "",
    ],
)
def test_unusable_urls_are_one_sentence_without_the_password(url: str):
    with pytest.raises(CentralUrlError) as info:
        parse_central_url(url)
    assert "hunter2" not in info.value.message
    assert info.value.message.endswith(".")


def test_postgres_url_round_trip():
    params = {
        "user": "inspection_bench_3",
        "password": "a-b_c",
        "host": "qa-db",
        "port": "5432",
        "dbname": "inspection",
        "sslmode": "require",
    }
    assert parse_central_url(postgres_url(params)).params == params
    socket = {"user": "u", "password": "p", "host": "/var/run/postgresql", "dbname": "db"}
    assert parse_central_url(postgres_url(socket)).params == socket


PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
"""Every printable ASCII character, space included."""
PASSWORDS = [
    PRINTABLE,
    PRINTABLE[::-1],
    *(f"pw{c}{c}rd{c}" for c in PRINTABLE if not c.isalnum()),
    "a@b:c/d?e#f",
]


def fragments(password: str, size: int = 4) -> set[str]:
    """Every run of ``size`` characters of the password that is not letters or digits only."""
    runs = {password[i : i + size] for i in range(len(password) - size + 1)}
    return {r for r in runs if not r.isalnum()} or {password}


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("encoded", [True, False], ids=["encoded", "as-typed"])
def test_a_password_of_any_printable_characters_is_parsed_and_never_shown(
    password: str, encoded: bool
):
    """Typed as it is (``/``, ``?``, ``#``, ``@`` ...) or percent-encoded: never shown, never
    in the identity a station's sync state is kept under, never mistaken for host or options."""
    written = quote(password, safe="") if encoded else password
    url = parse_central_url(f"postgresql://bench3:{written}@qa-db:6432/inspection?sslmode=require")
    assert url.params == {
        "user": "bench3",
        "password": password if encoded else unquote(password),
        "host": "qa-db",
        "port": "6432",
        "dbname": "inspection",
        "sslmode": "require",
    }
    assert url.display == "postgresql://bench3:***@qa-db:6432/inspection?sslmode=require"
    assert url.identity == "postgresql://qa-db:6432/inspection"
    assert mask_url(url.url) == url.display
    for shown in (url.display, url.identity, repr(url), scrub(f"failed: {url.url}", *url.secrets)):
        assert not any(piece in shown for piece in fragments(password)), shown
    in_query = parse_central_url(f"postgresql://bench3@qa-db/db?password={quote(password)}")
    assert in_query.password == password
    assert in_query.display == "postgresql://bench3@qa-db/db?password=***"


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_url_libpq_refuses_is_reported_without_its_password(password: str):
    with pytest.raises(CentralUrlError) as info:
        parse_central_url(f"postgresql://u:{password}@h:5432/db?no_such_option=1")
    message = info.value.message
    assert 'invalid URI query parameter: "no_such_option"' in message
    assert "postgresql://u:***@h:5432/db?no_such_option=1" in message
    assert not any(piece in message for piece in fragments(password))
