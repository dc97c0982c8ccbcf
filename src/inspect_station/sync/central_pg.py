"""The PostgreSQL central store (psycopg 3): the one module that talks to the plant database.

Schema ``inspect_station``, versioned by ``inspect_station.migrations``. The database enforces:

- append-only: triggers refuse UPDATE, DELETE and TRUNCATE on the journal and the projections;
- every station's chain: a statement-level trigger (``journal_inserted``) checks that the rows a
  statement adds continue the station's verified head without a gap, that each prev_hash links,
  and that each hash is the SHA-256 of the record's canonical bytes (composed from the stored
  canonical body and the other columns), then moves the head -- the head never moves otherwise;
- station roles (``add_station``): a LOGIN role per station with INSERT on the journal and the
  projections and EXECUTE on three functions, nothing else: no SELECT, UPDATE, DELETE. The
  triggers (SECURITY DEFINER) refuse rows of any station but the one ``station_roles`` maps the
  session user to, and the functions that report a head or held hashes check the same.

Ingest is one transaction per batch: ``begin_ingest`` takes the station's advisory lock and
returns its head, records already held are compared via ``held_records`` (same uuid and hash:
skipped; different: a fork), the rest go in with ``COPY`` (journal, then projections), commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.rows import dict_row

from inspect_station.store import journal
from inspect_station.sync.batch import JOURNAL_COLUMNS, PreparedBatch, decode_record
from inspect_station.sync.central import (
    AcknowledgedHead,
    CentralStore,
    IngestResult,
    StationCredentials,
    StationSummary,
)
from inspect_station.sync.central_derive import fingerprint, pg_project_function, pg_rebuild
from inspect_station.sync.errors import (
    CentralPermissionError,
    CentralSchemaError,
    CentralUnavailable,
    IngestRefused,
    Refusal,
    SyncError,
)
from inspect_station.sync.schema import CENTRAL_TABLES, QUERY_INDEXES, VIEWS
from inspect_station.sync.url import CentralUrl, postgres_url, scrub

SCHEMA = "inspect_station"
APPLICATION_NAME = "inspect-station"
_MIGRATION_LOCK = 0x1A5EC7_0001  # advisory lock key held while migrating
_PG_TYPES = {"INTEGER": "bigint", "TEXT": "text"}
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Custom SQLSTATEs raised by the schema's functions.
_SQLSTATE_CHAIN = "ISC01"
_SQLSTATE_STATION = "ISW01"
_SQLSTATE_APPEND_ONLY = "ISA01"


# The canonical bytes of a record (RFC 8785, see store/journal.py) composed in SQL from its
# columns: keys in sorted order, ``body`` already canonical text, integers as digits, and text
# through to_json, whose escapes (\b \f \n \r \t \" \\ and lowercase \u00xx for other control
# characters, everything else literal in a UTF8 database) are exactly RFC 8785's.
_CANONICAL_SQL = """
    '{"body":' || r.body || ',"format":' || r.format::text
    || ',"kind":' || to_json(r.kind)::text || ',"prev_hash":' || to_json(r.prev_hash)::text
    || ',"seq":' || r.seq::text || ',"station":' || to_json(r.station)::text
    || ',"ts":' || to_json(r.ts)::text || ',"uuid":' || to_json(r.uuid)::text || '}'
"""

_V1 = f"""
CREATE TABLE {SCHEMA}.stations (
    station text PRIMARY KEY,
    head_seq bigint NOT NULL DEFAULT 0,
    head_hash text NOT NULL DEFAULT '{journal.GENESIS}',
    records bigint NOT NULL DEFAULT 0,
    first_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {SCHEMA}.station_roles (
    role name PRIMARY KEY,
    station text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {SCHEMA}.journal (
    station text NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    uuid text NOT NULL,
    format integer NOT NULL,
    kind text NOT NULL,
    ts text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    body text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journal_pkey PRIMARY KEY (station, seq),
    CONSTRAINT journal_uuid_key UNIQUE (uuid)
);

CREATE FUNCTION {SCHEMA}.refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = '{_SQLSTATE_APPEND_ONLY}';
END $$;

CREATE TRIGGER journal_no_change BEFORE UPDATE OR DELETE ON {SCHEMA}.journal
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.refuse_change();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON {SCHEMA}.journal
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.refuse_change();

-- A head moves only from inside the journal trigger; stations are never deleted.
CREATE FUNCTION {SCHEMA}.guard_head() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' OR pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'a station head moves only with its journal: % refused', TG_OP
            USING ERRCODE = '{_SQLSTATE_APPEND_ONLY}';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stations_guard BEFORE UPDATE OR DELETE ON {SCHEMA}.stations
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.guard_head();
CREATE TRIGGER stations_no_truncate BEFORE TRUNCATE ON {SCHEMA}.stations
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.refuse_change();

-- Which station the session may write: the one its role is mapped to. A session that is not a
-- station role may write any station only if it is a member of the schema owner (the admin).
CREATE FUNCTION {SCHEMA}.check_station(p_station text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    mine text;
BEGIN
    SELECT station INTO mine FROM {SCHEMA}.station_roles WHERE role = session_user;
    IF mine IS NULL THEN
        IF NOT pg_has_role(session_user,
                (SELECT nspowner FROM pg_namespace WHERE nspname = '{SCHEMA}'), 'MEMBER') THEN
            RAISE EXCEPTION 'role % is not registered for any station', session_user
                USING ERRCODE = '{_SQLSTATE_STATION}', DETAIL = 'wrong station';
        END IF;
    ELSIF mine IS DISTINCT FROM p_station THEN
        RAISE EXCEPTION 'role % may write only station %, not %', session_user, mine, p_station
            USING ERRCODE = '{_SQLSTATE_STATION}', DETAIL = 'wrong station';
    END IF;
END $$;

CREATE FUNCTION {SCHEMA}.journal_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record;
    h record;
    bad record;
BEGIN
    FOR s IN SELECT n.station, min(n.seq) AS first_seq, max(n.seq) AS last_seq, count(*) AS n
             FROM new_rows n GROUP BY n.station ORDER BY n.station LOOP
        PERFORM {SCHEMA}.check_station(s.station);
        INSERT INTO {SCHEMA}.stations (station) VALUES (s.station)
            ON CONFLICT (station) DO NOTHING;
        SELECT head_seq, head_hash INTO h FROM {SCHEMA}.stations
            WHERE station = s.station FOR UPDATE;
        IF s.first_seq <> h.head_seq + 1 OR s.last_seq - s.first_seq + 1 <> s.n THEN
            RAISE EXCEPTION 'records % to % of station % do not follow its head seq %',
                s.first_seq, s.last_seq, s.station, h.head_seq
                USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'gap';
        END IF;
        -- Each record links to the one before it (the first to the head), and its hash is
        -- the SHA-256 of its canonical bytes. Only offending rows are sorted.
        SELECT r.seq, r.prev_hash = coalesce(a.hash, h.head_hash) AS linked INTO bad
        FROM new_rows r
        LEFT JOIN new_rows a ON a.station = r.station AND a.seq = r.seq - 1
        WHERE r.station = s.station
          AND (r.prev_hash <> coalesce(a.hash, CASE WHEN r.seq = s.first_seq
                                                    THEN h.head_hash END, '')
               OR r.hash <> encode(sha256(convert_to({_CANONICAL_SQL}, 'UTF8')), 'hex'))
        ORDER BY r.seq LIMIT 1;
        IF FOUND THEN
            IF bad.linked THEN
                RAISE EXCEPTION 'record seq % of station % does not match its hash',
                    bad.seq, s.station USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'bad hash';
            ELSIF bad.seq = s.first_seq THEN
                RAISE EXCEPTION 'record seq % of station % does not continue the head',
                    bad.seq, s.station USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'fork';
            ELSE
                RAISE EXCEPTION 'record seq % of station % does not link to seq %',
                    bad.seq, s.station, bad.seq - 1
                    USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'broken link';
            END IF;
        END IF;
        UPDATE {SCHEMA}.stations
        SET head_seq = s.last_seq,
            head_hash = (SELECT n.hash FROM new_rows n
                         WHERE n.station = s.station AND n.seq = s.last_seq),
            records = records + s.n,
            updated_at = now()
        WHERE station = s.station;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER journal_inserted AFTER INSERT ON {SCHEMA}.journal
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.journal_inserted();

CREATE FUNCTION {SCHEMA}.projection_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record;
    bad record;
BEGIN
    FOR s IN SELECT DISTINCT n.station FROM new_rows n LOOP
        PERFORM {SCHEMA}.check_station(s.station);
    END LOOP;
    -- The journal of a station is gap-free from seq 1 to its head, so a projection row has its
    -- journal record exactly when its seq is within that range (cheaper than a look-up per row).
    SELECT n.station, n.seq INTO bad FROM new_rows n
    LEFT JOIN {SCHEMA}.stations h ON h.station = n.station
    WHERE n.seq < 1 OR n.seq > coalesce(h.head_seq, 0)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% row for seq % of station % has no journal record',
            TG_TABLE_NAME, bad.seq, bad.station
            USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'malformed';
    END IF;
    RETURN NULL;
END $$;

-- What a station role may call: its head (with the ingest lock, or without), and the
-- (uuid, hash) of its own records in a seq range (to skip a re-sent batch or name a fork).
CREATE FUNCTION {SCHEMA}.begin_ingest(p_station text)
RETURNS TABLE (head_seq bigint, head_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {SCHEMA}.check_station(p_station);
    PERFORM pg_advisory_xact_lock(hashtextextended('{SCHEMA}:' || p_station, 0));
    RETURN QUERY SELECT s.head_seq, s.head_hash FROM {SCHEMA}.stations s
        WHERE s.station = p_station;
END $$;

CREATE FUNCTION {SCHEMA}.station_head(p_station text)
RETURNS TABLE (head_seq bigint, head_hash text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {SCHEMA}.check_station(p_station);
    RETURN QUERY SELECT s.head_seq, s.head_hash FROM {SCHEMA}.stations s
        WHERE s.station = p_station;
END $$;

CREATE FUNCTION {SCHEMA}.held_records(p_station text, p_first bigint, p_last bigint)
RETURNS TABLE (seq bigint, uuid text, hash text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {SCHEMA}.check_station(p_station);
    RETURN QUERY SELECT j.seq, j.uuid, j.hash FROM {SCHEMA}.journal j
        WHERE j.station = p_station AND j.seq BETWEEN p_first AND p_last;
END $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {SCHEMA} FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM PUBLIC;
"""

_V2 = f"""
-- Every head a station was acknowledged, kept for good: the anchor that shows a rollback.
CREATE TABLE {SCHEMA}.head_history (
    station text NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    hash text NOT NULL,
    acknowledged_at timestamptz NOT NULL DEFAULT now(),
    acknowledged_by name NOT NULL DEFAULT session_user,
    PRIMARY KEY (station, seq)
);
INSERT INTO {SCHEMA}.head_history (station, seq, hash, acknowledged_at, acknowledged_by)
    SELECT station, head_seq, head_hash, updated_at, current_user FROM {SCHEMA}.stations
    WHERE head_seq > 0;
CREATE TRIGGER head_history_no_change BEFORE UPDATE OR DELETE ON {SCHEMA}.head_history
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.refuse_change();
CREATE TRIGGER head_history_no_truncate BEFORE TRUNCATE ON {SCHEMA}.head_history
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.refuse_change();

-- The history grows only from inside the journal trigger, and only forward.
CREATE FUNCTION {SCHEMA}.guard_history() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    top bigint;
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'head_history grows only with the journal: % refused', TG_OP
            USING ERRCODE = '{_SQLSTATE_APPEND_ONLY}';
    END IF;
    SELECT max(h.seq) INTO top FROM {SCHEMA}.head_history h WHERE h.station = NEW.station;
    IF top IS NOT NULL AND NEW.seq <= top THEN
        RAISE EXCEPTION 'the head of station % would move back from seq % to seq %',
            NEW.station, top, NEW.seq USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'fork';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER head_history_guard BEFORE INSERT ON {SCHEMA}.head_history
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.guard_history();

-- A head moves only from inside the journal trigger, and never backwards.
CREATE OR REPLACE FUNCTION {SCHEMA}.guard_head() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' OR pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'a station head moves only with its journal: % refused', TG_OP
            USING ERRCODE = '{_SQLSTATE_APPEND_ONLY}';
    END IF;
    IF NEW.station IS DISTINCT FROM OLD.station OR NEW.head_seq < OLD.head_seq THEN
        RAISE EXCEPTION 'the head of station % never moves backwards', OLD.station
            USING ERRCODE = '{_SQLSTATE_APPEND_ONLY}';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.journal_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record;
    h record;
    bad record;
    last_hash text;
BEGIN
    FOR s IN SELECT n.station, min(n.seq) AS first_seq, max(n.seq) AS last_seq, count(*) AS n
             FROM new_rows n GROUP BY n.station ORDER BY n.station LOOP
        PERFORM {SCHEMA}.check_station(s.station);
        INSERT INTO {SCHEMA}.stations (station) VALUES (s.station)
            ON CONFLICT (station) DO NOTHING;
        SELECT head_seq, head_hash INTO h FROM {SCHEMA}.stations
            WHERE station = s.station FOR UPDATE;
        IF s.first_seq <> h.head_seq + 1 OR s.last_seq - s.first_seq + 1 <> s.n THEN
            RAISE EXCEPTION 'records % to % of station % do not follow its head seq %',
                s.first_seq, s.last_seq, s.station, h.head_seq
                USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'gap';
        END IF;
        -- Each record links to the one before it (the first to the head), and its hash is
        -- the SHA-256 of its canonical bytes. Only offending rows are sorted.
        SELECT r.seq, r.prev_hash = coalesce(a.hash, h.head_hash) AS linked INTO bad
        FROM new_rows r
        LEFT JOIN new_rows a ON a.station = r.station AND a.seq = r.seq - 1
        WHERE r.station = s.station
          AND (r.prev_hash <> coalesce(a.hash, CASE WHEN r.seq = s.first_seq
                                                    THEN h.head_hash END, '')
               OR r.hash <> encode(sha256(convert_to({_CANONICAL_SQL}, 'UTF8')), 'hex'))
        ORDER BY r.seq LIMIT 1;
        IF FOUND THEN
            IF bad.linked THEN
                RAISE EXCEPTION 'record seq % of station % does not match its hash',
                    bad.seq, s.station USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'bad hash';
            ELSIF bad.seq = s.first_seq THEN
                RAISE EXCEPTION 'record seq % of station % does not continue the head',
                    bad.seq, s.station USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'fork';
            ELSE
                RAISE EXCEPTION 'record seq % of station % does not link to seq %',
                    bad.seq, s.station, bad.seq - 1
                    USING ERRCODE = '{_SQLSTATE_CHAIN}', DETAIL = 'broken link';
            END IF;
        END IF;
        SELECT n.hash INTO last_hash FROM new_rows n
            WHERE n.station = s.station AND n.seq = s.last_seq;
        UPDATE {SCHEMA}.stations
        SET head_seq = s.last_seq, head_hash = last_hash, records = records + s.n,
            updated_at = now()
        WHERE station = s.station;
        INSERT INTO {SCHEMA}.head_history (station, seq, hash)
            VALUES (s.station, s.last_seq, last_hash);
    END LOOP;
    RETURN NULL;
END $$;

-- Projection rows are made by journal_project (central_derive.py) and by nothing else.
DROP FUNCTION {SCHEMA}.projection_inserted() CASCADE;
CREATE FUNCTION {SCHEMA}.derived_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION '% rows are derived from journal records only: % refused',
            TG_TABLE_NAME, TG_OP USING ERRCODE = '{_SQLSTATE_APPEND_ONLY}';
    END IF;
    RETURN NULL;
END $$;

-- Which derivation the projection tables hold (a new one rebuilds them from the journal).
CREATE TABLE {SCHEMA}.projection_state (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    fingerprint text NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now()
);

-- What a station role may also call: its acknowledged heads, and the rejects its new
-- dispositions made conflicting (two dispositions signed apart, e.g. while offline).
CREATE FUNCTION {SCHEMA}.acknowledged_heads(p_station text)
RETURNS TABLE (seq bigint, hash text, acknowledged_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {SCHEMA}.check_station(p_station);
    RETURN QUERY SELECT h.seq, h.hash, h.acknowledged_at FROM {SCHEMA}.head_history h
        WHERE h.station = p_station ORDER BY h.seq;
END $$;

CREATE FUNCTION {SCHEMA}.ingest_conflicts(p_station text, p_first bigint, p_last bigint)
RETURNS TABLE (reject text, dispositions bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM {SCHEMA}.check_station(p_station);
    RETURN QUERY SELECT d.reject, count(*) FROM {SCHEMA}.dispositions d
        WHERE d.reject IN (SELECT m.reject FROM {SCHEMA}.dispositions m
                           WHERE m.station = p_station AND m.seq BETWEEN p_first AND p_last)
        GROUP BY d.reject HAVING count(*) > 1 ORDER BY d.reject;
END $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {SCHEMA} FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM PUBLIC;
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "journal, station heads and station roles", _V1),
    (2, "head history; projections derived by the database only", _V2),
]
"""(version, name, SQL) in order. Projection tables are not here: they follow the station's
(``schema.CENTRAL_TABLES``) and are created by ``migrate`` after the migrations. A migration that
adds something a station role needs must also add it to ``_grant_station``, which ``migrate``
re-runs for every station role."""
LATEST = MIGRATIONS[-1][0]

_STATION_FUNCTIONS = (
    "begin_ingest(text)",
    "station_head(text)",
    "held_records(text, bigint, bigint)",
    "acknowledged_heads(text)",
    "ingest_conflicts(text, bigint, bigint)",
)
_COPY_JOURNAL = sql.SQL("COPY {}.journal ({}) FROM STDIN").format(
    sql.Identifier(SCHEMA), sql.SQL(", ").join(map(sql.Identifier, JOURNAL_COLUMNS))
)
# libpq settings this program wants unless the URL says otherwise: fail fast when the server
# is unreachable, notice a silently dropped connection, and name itself in pg_stat_activity.
_DEFAULTS = {
    "connect_timeout": "10",
    "application_name": APPLICATION_NAME,
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}
_AUTH_FAILURES = (
    "password authentication failed",
    "no password supplied",
    "does not exist",
    "no pg_hba.conf entry",
    "permission denied",
    "certificate",
)

# What a ``?`` inside of is not a placeholder: a string, a quoted identifier, a comment.
_NOT_PLACEHOLDERS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/""", re.S)


def _utc(moment: dt.datetime) -> str:
    """A timestamptz as RFC 3339 UTC text, like the journal's times."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def qmark_to_pyformat(query: str) -> str:
    """A query with ``?`` placeholders in psycopg's style: ``%s``, and every other ``%`` doubled.

    A ``?`` in a string literal, a quoted identifier or a comment stays as it is.
    """
    out = []
    pos = 0
    for match in _NOT_PLACEHOLDERS.finditer(query):
        out.append(query[pos : match.start()].replace("%", "%%").replace("?", "%s"))
        out.append(match.group().replace("%", "%%"))
        pos = match.end()
    out.append(query[pos:].replace("%", "%%").replace("?", "%s"))
    return "".join(out)


def default_role(dbname: str, station: str) -> str:
    """The role name ``add_station`` uses: database and station, lower case, [a-z0-9_]."""
    name = re.sub(r"[^a-z0-9_]", "_", f"{dbname}_{station}".lower())
    if not re.match(r"[a-z_]", name):
        name = f"s_{name}"
    return name


class PostgresCentral(CentralStore):
    """The central store in a PostgreSQL database."""

    def __init__(self, url: CentralUrl) -> None:
        self.url = url
        self._lock = threading.RLock()
        params = dict(url.params)
        for key, value in _DEFAULTS.items():
            params.setdefault(key, value)
        try:
            self.conn = psycopg.connect(autocommit=True, **params)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from None
        self._checked = False

    def _connect_error(self, exc: psycopg.Error) -> SyncError:
        detail = " ".join(scrub(str(exc), *self.url.secrets).split())
        message = f"Cannot connect to the central store {self.url.display}: {detail}"
        message = message.rstrip(".") + "."
        lowered = detail.lower()
        if any(marker in lowered for marker in _AUTH_FAILURES):
            return CentralPermissionError(message)
        return CentralUnavailable(message)

    # -- errors ------------------------------------------------------------------------------

    def _error(self, exc: psycopg.Error, what: str) -> SyncError:
        """A psycopg error as a typed, password-free, one-sentence error."""
        diag = exc.diag
        primary = self._primary(exc)
        state = exc.sqlstate or ""
        if state in (_SQLSTATE_CHAIN, _SQLSTATE_STATION):
            detail = diag.message_detail or ""
            reason = Refusal(detail) if detail in Refusal._value2member_map_ else Refusal.FORK
            return IngestRefused(reason, f"The central store refused {what}: {primary}.")
        if isinstance(exc, pgerrors.UniqueViolation):
            if diag.constraint_name == "journal_uuid_key":
                return IngestRefused(
                    Refusal.DUPLICATE,
                    f"The central store refused {what}: a record UUID in it is already held "
                    "under another station or seq.",
                )
            return IngestRefused(Refusal.FORK, f"The central store refused {what}: {primary}.")
        if isinstance(exc, pgerrors.InsufficientPrivilege):
            return CentralPermissionError(
                f"The central store {self.url.display} refused {what}: {primary}."
            )
        if isinstance(exc, pgerrors.UndefinedTable | pgerrors.UndefinedFunction):
            return CentralSchemaError(
                f"The central store {self.url.display} has no inspect-station schema (or an old "
                f"one); run `inspect-station central init` on it first ({primary})."
            )
        if isinstance(exc, pgerrors.DataError):
            return IngestRefused(Refusal.MALFORMED, f"The central store refused {what}: {primary}.")
        if (
            isinstance(
                exc,
                psycopg.OperationalError
                | pgerrors.SerializationFailure
                | pgerrors.DeadlockDetected
                | pgerrors.QueryCanceled,
            )
            or self.conn.broken
        ):
            return CentralUnavailable(
                f"The connection to the central store {self.url.display} failed during {what}: "
                f"{primary or type(exc).__name__}."
            )
        return SyncError(f"The central store {self.url.display} failed during {what}: {primary}.")

    def _primary(self, exc: psycopg.Error) -> str:
        """The server's one-line message, without the password or a final period."""
        text = str(exc)
        primary = exc.diag.message_primary or (text.splitlines()[0] if text else "")
        return scrub(" ".join(primary.split()), *self.url.secrets).rstrip(".")

    def _live(self) -> psycopg.Connection:
        if self.conn.closed or self.conn.broken:
            raise CentralUnavailable(
                f"The connection to the central store {self.url.display} was lost."
            )
        return self.conn

    def _check_schema(self) -> None:
        """Once per connection: the schema version is this program's.

        The projection tables are not checked: a station only adds journal records, and the
        rows the database derives from them follow ``central init`` (see ``_build_projections``).
        """
        if self._checked:
            return
        versions = [int(v.split(":")[0]) for v in self.applied_migrations()]
        if not versions:
            raise CentralSchemaError(
                f"The central store {self.url.display} has no inspect-station schema; run "
                "`inspect-station central init URL` with an administrator's URL first."
            )
        newest = max(versions)
        if newest > LATEST:
            raise CentralSchemaError(
                f"The central store {self.url.display} has schema version {newest}, newer than "
                f"this program's {LATEST}; upgrade inspect-station on this station."
            )
        if newest < LATEST:
            raise CentralSchemaError(
                f"The central store {self.url.display} has an older schema than this program "
                f"(version {newest} < {LATEST}); run `inspect-station central init URL` to "
                "upgrade it."
            )
        self._checked = True

    def _build_projections(self, conn: psycopg.Connection) -> list[str]:
        """(Re)create the projection tables and derive every row from the journal, if the
        derivation changed since they were built (a new table or column, a first init).

        Tables are dropped and made again: their rows are derived data and the journal holds
        everything they say, so a row a station had inserted itself (before schema 2) goes too.
        """
        wanted = fingerprint()
        row = conn.execute(f"SELECT fingerprint FROM {SCHEMA}.projection_state").fetchone()
        if row and row[0] == wanted:
            return []
        schema = sql.Identifier(SCHEMA)
        for view in VIEWS:
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier(SCHEMA, view)))
        for table, columns in CENTRAL_TABLES.items():
            ident = sql.Identifier(SCHEMA, table)
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(ident))
            cols = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_PG_TYPES[t]))
                + (sql.SQL(" NOT NULL") if c in ("station", "seq", "uuid") else sql.SQL(""))
                for c, t in columns
            )
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, cols))
        conn.execute(pg_project_function(SCHEMA, _SQLSTATE_CHAIN))
        conn.execute(f"DROP TRIGGER IF EXISTS journal_project ON {SCHEMA}.journal")
        conn.execute(
            f"CREATE TRIGGER journal_project AFTER INSERT ON {SCHEMA}.journal "
            "REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.journal_project()"
        )
        conn.execute(pg_rebuild(SCHEMA))
        derived = 0
        for table in CENTRAL_TABLES:
            ident = sql.Identifier(SCHEMA, table)
            derived += conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]
            conn.execute(
                sql.SQL("CREATE UNIQUE INDEX {} ON {} (station, seq)").format(
                    sql.Identifier(f"{table}_station_seq"), ident
                )
            )
            for trigger, timing in (
                ("no_change", "BEFORE UPDATE OR DELETE ON {} FOR EACH ROW"),
                ("no_truncate", "BEFORE TRUNCATE ON {} FOR EACH STATEMENT"),
            ):
                conn.execute(
                    sql.SQL(
                        "CREATE TRIGGER {} " + timing + " EXECUTE FUNCTION {}.refuse_change()"
                    ).format(sql.Identifier(f"{table}_{trigger}"), ident, schema)
                )
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER {} BEFORE INSERT ON {} FOR EACH STATEMENT "
                    "EXECUTE FUNCTION {}.derived_only()"
                ).format(sql.Identifier(f"{table}_derived_only"), ident, schema)
            )
        for table, indexes in QUERY_INDEXES.items():
            for name, columns in indexes:
                conn.execute(
                    sql.SQL("CREATE INDEX {} ON {} ({})").format(
                        sql.Identifier(name),
                        sql.Identifier(SCHEMA, table),
                        sql.SQL(", ").join(map(sql.Identifier, columns)),
                    )
                )
        for view, (_table, select) in VIEWS.items():
            conn.execute(
                sql.SQL("CREATE VIEW {} AS ").format(sql.Identifier(SCHEMA, view))
                + sql.SQL(select.format(s=f"{SCHEMA}."))
            )
        conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM PUBLIC")
        conn.execute(
            f"INSERT INTO {SCHEMA}.projection_state (one, fingerprint) VALUES (true, %s) "
            "ON CONFLICT (one) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "built_at = now()",
            (wanted,),
        )
        return [f"projections derived from the journal ({derived:,} rows)"]

    def projection_fingerprint(self) -> str | None:
        """Which derivation the projection tables were built with (None: never built)."""
        self._check_schema()
        rows = self._rows(f"SELECT fingerprint FROM {SCHEMA}.projection_state")
        return rows[0]["fingerprint"] if rows else None

    # -- schema ------------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Create the schema or apply pending migrations, each with its version row, at once."""
        applied_now: list[str] = []
        with self._lock:
            conn = self._live()
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                    encoding = conn.execute("SHOW server_encoding").fetchone()[0]
                    if encoding.upper() not in ("UTF8", "UTF-8"):
                        raise CentralSchemaError(
                            f"The central database {self.url.display} uses encoding {encoding}; "
                            "inspect-station needs a UTF8 database."
                        )
                    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                    conn.execute(
                        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.migrations ("
                        "version integer PRIMARY KEY, name text NOT NULL, "
                        "applied_at timestamptz NOT NULL DEFAULT now())"
                    )
                    done = {
                        row[0] for row in conn.execute(f"SELECT version FROM {SCHEMA}.migrations")
                    }
                    if done and max(done) > LATEST:
                        raise CentralSchemaError(
                            f"The central store {self.url.display} has schema version "
                            f"{max(done)}, newer than this program's {LATEST}."
                        )
                    for version, name, ddl in MIGRATIONS:
                        if version in done:
                            continue
                        conn.execute(ddl)
                        conn.execute(
                            f"INSERT INTO {SCHEMA}.migrations (version, name) VALUES (%s, %s)",
                            (version, name),
                        )
                        applied_now.append(f"{version}: {name}")
                    applied_now += self._build_projections(conn)
                    if applied_now:
                        for (role,) in conn.execute(
                            f"SELECT role FROM {SCHEMA}.station_roles"
                        ).fetchall():
                            self._grant_station(conn, role)
            except psycopg.Error as exc:
                raise self._error(exc, "creating the schema") from None
        self._checked = False
        return applied_now

    def applied_migrations(self) -> list[str]:
        """'version: name' of every applied migration; empty without a schema."""
        with self._lock:
            conn = self._live()
            try:
                exists = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.migrations",)
                ).fetchone()[0]
                if not exists:
                    return []
                rows = conn.execute(
                    f"SELECT version, name FROM {SCHEMA}.migrations ORDER BY version"
                ).fetchall()
            except psycopg.Error as exc:
                raise self._error(exc, "reading the schema version") from None
        return [f"{version}: {name}" for version, name in rows]

    # -- ingest ------------------------------------------------------------------------------

    def head(self, station: str) -> tuple[int, str]:
        """The station's verified head; (0, GENESIS) if central holds nothing of it."""
        with self._lock:
            self._check_schema()
            conn = self._live()
            try:
                row = conn.execute(
                    f"SELECT head_seq, head_hash FROM {SCHEMA}.station_head(%s)", (station,)
                ).fetchone()
            except psycopg.Error as exc:
                raise self._error(exc, f"the head of station {station}") from None
        return (row[0], row[1]) if row else (0, journal.GENESIS)

    def ingest_prepared(self, batch: PreparedBatch) -> IngestResult:
        """Store the records central lacks in one transaction (COPY), the head moved with them."""
        what = f"station {batch.station}'s records {batch.first_seq}-{batch.last_seq}"
        with self._lock:
            self._check_schema()
            conn = self._live()
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(
                        f"SELECT head_seq, head_hash FROM {SCHEMA}.begin_ingest(%s)",
                        (batch.station,),
                    )
                    row = cur.fetchone()
                    head_seq, head_hash = (row[0], row[1]) if row else (0, journal.GENESIS)

                    def held(first: int, last: int) -> dict[int, tuple[str, str]]:
                        cur.execute(
                            f"SELECT seq, uuid, hash FROM {SCHEMA}.held_records(%s, %s, %s)",
                            (batch.station, first, last),
                        )
                        return {seq: (uuid, hash_) for seq, uuid, hash_ in cur.fetchall()}

                    rest = batch.against_head(head_seq, head_hash, held)
                    conflicts: tuple[str, ...] = ()
                    if rest.journal:
                        # The database checks the chain and derives the projection rows.
                        with cur.copy(_COPY_JOURNAL) as copy:
                            for record in rest.journal:
                                copy.write_row(record)
                        head_seq, head_hash = rest.last_seq, rest.last_hash
                        if rest.has_kind("disposition"):
                            cur.execute(
                                f"SELECT reject FROM {SCHEMA}.ingest_conflicts(%s, %s, %s)",
                                (batch.station, rest.first_seq, rest.last_seq),
                            )
                            conflicts = tuple(r[0] for r in cur.fetchall())
            except psycopg.Error as exc:
                raise self._error(exc, what) from None
        return IngestResult(
            batch.station,
            len(batch),
            len(rest),
            len(batch) - len(rest),
            head_seq,
            head_hash,
            conflicts,
        )

    def acknowledged_heads(self, station: str | None = None) -> list[AcknowledgedHead]:
        """Every head acknowledged to ``station`` (or to every station), oldest first."""
        self._check_schema()
        if station is None:
            rows = self._rows(
                f"SELECT station, seq, hash, acknowledged_at FROM {SCHEMA}.head_history "
                "ORDER BY station, seq"
            )
        else:
            rows = [
                {**row, "station": station}
                for row in self._rows(
                    f"SELECT seq, hash, acknowledged_at FROM {SCHEMA}.acknowledged_heads(%s)",
                    (station,),
                )
            ]
        return [
            AcknowledgedHead(r["station"], r["seq"], r["hash"], _utc(r["acknowledged_at"]))
            for r in rows
        ]

    def hashes(self, station: str, first_seq: int, last_seq: int) -> dict[int, str]:
        """seq -> hash of the station's records held in [first_seq, last_seq]."""
        self._check_schema()
        rows = self._rows(
            f"SELECT seq, hash FROM {SCHEMA}.held_records(%s, %s, %s)",
            (station, first_seq, last_seq),
        )
        return {r["seq"]: r["hash"] for r in rows}

    # -- reading back ------------------------------------------------------------------------

    def _rows(self, query: str | sql.Composed, params: tuple[Any, ...] = ()) -> list[dict]:
        with self._lock:
            conn = self._live()
            try:
                with conn.cursor(row_factory=dict_row) as cur:
                    cur.execute(query, params)
                    return cur.fetchall()
            except psycopg.Error as exc:
                raise self._error(exc, "reading the central store") from None

    def stations(self) -> list[StationSummary]:
        """Every station with records or a head, by station id."""
        self._check_schema()
        counts = {
            row["station"]: row
            for row in self._rows(
                f"SELECT station, count(*) AS n, min(seq) AS first, max(seq) AS last "
                f"FROM {SCHEMA}.journal GROUP BY station"
            )
        }
        heads = {
            row["station"]: row
            for row in self._rows(f"SELECT station, head_seq, head_hash FROM {SCHEMA}.stations")
        }
        out = []
        for station in sorted(set(counts) | set(heads)):
            c = counts.get(station, {"n": 0, "first": None, "last": None})
            h = heads.get(station, {"head_seq": 0, "head_hash": journal.GENESIS})
            out.append(
                StationSummary(
                    station, c["n"], c["first"], c["last"], h["head_seq"], h["head_hash"]
                )
            )
        return out

    def records(self, station: str, after_seq: int = 0, batch: int = 2000) -> Iterator[dict]:
        """The station's records above ``after_seq``, decoded, streamed in keyset pages."""
        self._check_schema()
        last = after_seq
        while True:
            rows = self._rows(
                f"SELECT station, seq, uuid, format, kind, ts, prev_hash, hash, body "
                f"FROM {SCHEMA}.journal WHERE station = %s AND seq > %s ORDER BY seq LIMIT %s",
                (station, last, batch),
            )
            if not rows:
                return
            for row in rows:
                yield decode_record(row)
            last = rows[-1]["seq"]

    def projection_rows(
        self, table: str, station: str, first_seq: int, last_seq: int
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` for the station's seqs in the range, by seq then insertion."""
        if table not in CENTRAL_TABLES:
            raise ValueError(f"unknown projection table {table!r}")
        return self._rows(
            sql.SQL(
                "SELECT * FROM {}.{} WHERE station = %s AND seq BETWEEN %s AND %s "
                "ORDER BY seq, ctid"
            ).format(sql.Identifier(SCHEMA), sql.Identifier(table)),
            (station, first_seq, last_seq),
        )

    def projection_beyond(self, station: str, seq: int) -> tuple[str, int] | None:
        """The first projection row of the station above ``seq``, if any."""
        for table in CENTRAL_TABLES:
            rows = self._rows(
                sql.SQL("SELECT min(seq) AS seq FROM {}.{} WHERE station = %s AND seq > %s").format(
                    sql.Identifier(SCHEMA), sql.Identifier(table)
                ),
                (station, seq),
            )
            if rows and rows[0]["seq"] is not None:
                return table, rows[0]["seq"]
        return None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of one statement in a READ ONLY transaction, with the schema on the search path."""
        self._check_schema()
        text = qmark_to_pyformat(sql)
        with self._lock:
            conn = self._live()
            try:
                with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                    cur.execute("SET TRANSACTION READ ONLY")
                    cur.execute(f"SET LOCAL search_path TO {SCHEMA}, pg_catalog")
                    cur.execute(text, tuple(params))
                    return cur.fetchall() if cur.description else []
            except psycopg.Error as exc:
                if self.conn.broken or isinstance(
                    exc, psycopg.OperationalError | pgerrors.InsufficientPrivilege
                ):
                    raise self._error(exc, "a read query") from None
                raise SyncError(
                    f"The central store {self.url.display} could not answer a read query: "
                    f"{self._primary(exc)}."
                ) from None

    # -- station roles -----------------------------------------------------------------------

    def add_station(
        self, station: str, role: str | None = None, new_password: bool = False
    ) -> StationCredentials:
        """Create (or, with ``new_password``, re-key) the LOGIN role a station ships with."""
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", station):
            raise SyncError(
                f"{station!r} is not a station id (letters, digits, '.', '_' and '-', at most 64)."
            )
        dbname = str(self.url.params.get("dbname") or self.url.params.get("user") or "")
        name = role or default_role(dbname, station)
        if not _ROLE_NAME.fullmatch(name):
            raise SyncError(
                f"{name!r} cannot be a station role name: use at most 63 lower-case letters, "
                "digits and underscores, starting with a letter (choose one with --role)."
            )
        password = secrets.token_urlsafe(24)
        with self._lock:
            self._check_schema()
            conn = self._live()
            try:
                verifier = conn.pgconn.encrypt_password(password.encode(), name.encode()).decode()
                with conn.transaction():
                    mapped = conn.execute(
                        f"SELECT role FROM {SCHEMA}.station_roles WHERE station = %s", (station,)
                    ).fetchone()
                    owner = conn.execute(
                        f"SELECT station FROM {SCHEMA}.station_roles WHERE role = %s", (name,)
                    ).fetchone()
                    exists = conn.execute(
                        "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)
                    ).fetchone()
                    if mapped and mapped[0] != name:
                        raise SyncError(
                            f"Station {station} already ships as role {mapped[0]}; use "
                            f"--role {mapped[0]} --new-password to issue it a new password."
                        )
                    if owner and owner[0] != station:
                        raise SyncError(f"Role {name} already belongs to station {owner[0]}.")
                    if exists and not owner:
                        raise SyncError(
                            f"A database role {name} exists but is not a station role; choose "
                            "another name with --role."
                        )
                    if exists and not new_password:
                        raise SyncError(
                            f"Station {station} already has role {name}; add --new-password to "
                            "replace its password (the old one stops working)."
                        )
                    statement = (
                        "ALTER ROLE {} PASSWORD {}"
                        if exists
                        else (
                            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                            "NOREPLICATION NOBYPASSRLS PASSWORD {}"
                        )
                    )
                    conn.execute(
                        sql.SQL(statement).format(sql.Identifier(name), sql.Literal(verifier))
                    )
                    if not owner:
                        conn.execute(
                            f"INSERT INTO {SCHEMA}.station_roles (role, station) VALUES (%s, %s)",
                            (name, station),
                        )
                    self._grant_station(conn, name)
            except psycopg.Error as exc:
                raise self._error(exc, f"creating the role of station {station}") from None
        params = {**self.url.params, "user": name, "password": password}
        return StationCredentials(station, name, password, postgres_url(params))

    def _grant_station(self, conn: psycopg.Connection, role: str) -> None:
        """Give a station role exactly what shipping needs, nothing more."""
        ident = sql.Identifier(role)
        schema = sql.Identifier(SCHEMA)
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), ident)
        )
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, ident))
        # Journal records only: every projection row is derived by the database from them.
        conn.execute(sql.SQL("GRANT INSERT ON {}.journal TO {}").format(schema, ident))
        conn.execute(
            sql.SQL("REVOKE ALL ON {} FROM {}").format(
                sql.SQL(", ").join(
                    sql.Identifier(SCHEMA, t)
                    for t in (*CENTRAL_TABLES, "stations", "station_roles", "head_history")
                ),
                ident,
            )
        )
        conn.execute(sql.SQL("GRANT SELECT ON {}.migrations TO {}").format(schema, ident))
        for function in _STATION_FUNCTIONS:
            conn.execute(
                sql.SQL("GRANT EXECUTE ON FUNCTION {}.{} TO {}").format(
                    schema, sql.SQL(function), ident
                )
            )

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(psycopg.Error):
            self.conn.close()
