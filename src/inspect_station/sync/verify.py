"""Verify a central store, and anchor a station's chain to it and to its own sync state.

``verify_central``: streams each station's journal back (keyset pages, flat memory), feeds it
through the same ``journal.ChainVerifier`` the station uses (seq gap-free from 1, prev_hash
links, every hash recomputed with ``journal.record_hash``), compares every projection row with
what ``projections.project`` derives from the journal, checks the station's verified head, and
checks the journal against the history of heads the store acknowledged: a head behind its
history was rolled back, a record that is not the one acknowledged was rewritten, a station
known only to the history was deleted.

``anchor_local`` checks a station's record against what the central stores acknowledged to it
(its sync state), and ``cross_check`` against a central store's copy of its chain: what a hash
chain alone cannot see (the last records deleted, a file rolled back, a chain edited and
re-hashed) shows there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspect_station.store import LocalStore
from inspect_station.store.checkpoints import verify_local
from inspect_station.sync.central import (
    AcknowledgedHead,
    CentralStore,
    StationReport,
    open_central,
    short_hash,
    verify_station,
)
from inspect_station.sync.central_derive import fingerprint

_PAGE = 10_000


def verify_central_store(
    central: CentralStore,
    on_report: Callable[[StationReport], None] | None = None,
    *,
    projections: bool = True,
) -> list[StationReport]:
    """Verify every station the central store holds or ever acknowledged; in station order.

    With ``projections`` False the query tables are not compared with the journal (they were
    derived by another version of the program; ``central init`` derives them again)."""
    history: dict[str, list[AcknowledgedHead]] = {}
    for entry in central.acknowledged_heads():
        history.setdefault(entry.station, []).append(entry)
    summaries = {s.station: s for s in central.stations()}
    reports = []
    for station in sorted(set(summaries) | set(history)):
        summary = summaries.get(station)
        if summary is None or summary.records == 0:
            latest = max(history[station], key=lambda e: e.seq)
            report = StationReport(
                station,
                0,
                0,
                summary.head_seq if summary else 0,
                False,
                None,
                f"the station was deleted: seq {latest.seq} (hash {short_hash(latest.hash)}) was "
                f"acknowledged at {latest.acknowledged_at}, but the store holds no record of it",
            )
        else:
            report = verify_station(
                central, summary, history.get(station, []), projections=projections
            )
        if on_report is not None:
            on_report(report)
        reports.append(report)
    return reports


def verify_central(url: str, echo: Callable[[str], None] = print) -> int:
    """Verify a central store and print per-station counts; the exit code (1 if broken)."""
    with open_central(url, create=False) as central:
        echo(f"Central store {central.url.display}:")
        current = central.projection_fingerprint() in (None, fingerprint())
        if not current:
            echo(
                "  note: its query tables were derived by another version of inspect-station, "
                "so only the chains are checked; `inspect-station central init` derives them "
                "again from the journal"
            )
        reports = verify_central_store(
            central, lambda r: echo(f"  {r.line()}"), projections=current
        )
    bad = [r for r in reports if not r.ok]
    total = sum(r.records for r in reports)
    if bad:
        echo(f"BROKEN: {len(bad)} of {len(reports)} station(s) failed verification.")
        return 1
    also = "" if current else " (query tables not checked)"
    echo(f"OK: {len(reports)} station(s), {total:,} records, every chain verified{also}.")
    return 0


# -- a station's chain against its anchors ----------------------------------------------------


@dataclass(frozen=True)
class AnchorCheck:
    """One comparison of a station's chain with an anchor (sync state, central copy, paper)."""

    anchor: str
    """What the chain was compared with, for people."""
    ok: bool
    """Whether the chain agrees with it."""
    detail: str
    """What was found, in one sentence (without a final period)."""

    def line(self) -> str:
        """One line for the terminal."""
        return f"{self.anchor}: {'OK' if self.ok else 'BROKEN'}: {self.detail}"


def anchor_local(store: LocalStore) -> list[AnchorCheck]:
    """The chain against every head the station's central stores acknowledged (its sync
    state): each must still be in it, with the same hash, and the chain may not end before."""
    out = []
    head_seq, _ = store.head()
    for state in store.sync_states():
        seq, hash_ = state["acked_seq"], state["acked_hash"]
        if not seq:
            continue
        where = f"sync state ({state['central']})"
        at = state["last_success_at"] or "an unknown time"
        if head_seq < seq:
            out.append(
                AnchorCheck(
                    where,
                    False,
                    f"seq {seq} (hash {short_hash(hash_)}) was acknowledged (last confirmed {at}), "
                    f"but the record ends at seq {head_seq}: records were removed, or this is "
                    "an older copy",
                )
            )
            continue
        held = store.hashes(seq, seq).get(seq)
        ok = held == hash_
        out.append(
            AnchorCheck(
                where,
                ok,
                f"acknowledged seq {seq} (hash {short_hash(hash_)}; last confirmed {at})"
                + (
                    ", and the chain holds it"
                    if ok
                    else f", but the chain's seq {seq} has hash {short_hash(held or '')}: the "
                    "chain was edited and re-hashed"
                ),
            )
        )
    return out


def anchor_paper(store: LocalStore, anchors: list[tuple[int, str]]) -> list[AnchorCheck]:
    """The chain against heads printed on exports and certificates (seq and hash each)."""
    head_seq, _ = store.head()
    out = []
    for seq, hash_ in anchors:
        where = f"printed head seq {seq}"
        if seq > head_seq:
            out.append(
                AnchorCheck(
                    where, False, f"the record ends at seq {head_seq}: records were removed"
                )
            )
            continue
        held = store.hashes(seq, seq).get(seq, "")
        ok = held.startswith(hash_.lower()) and len(hash_) >= 16
        detail = (
            f"hash {short_hash(held)} matches"
            if ok
            else f"the chain's seq {seq} has hash {short_hash(held)}, not {hash_[:16]}…: the chain "
            "was edited and re-hashed"
        )
        out.append(AnchorCheck(where, ok, detail))
    return out


def cross_check(store: LocalStore, central: CentralStore) -> list[AnchorCheck]:
    """A station's local chain against the central store's copy of it.

    Every seq both hold has the same hash; the local head is not behind the head the central
    store acknowledged; the central store did not lose what it acknowledged to this station
    (its history, and the station's own sync state, say how far that was).
    """
    station = store.station
    where = f"central {central.url.display}"
    local_seq, _ = store.head()
    central_seq, _ = central.head(station)
    history = central.acknowledged_heads(station)
    acked = max((e.seq for e in history), default=0)
    state = store.sync_state(central.url.identity) or {}
    remembered = state.get("acked_seq") or 0
    out: list[AnchorCheck] = []
    if central_seq == 0 and max(acked, remembered) > 0:
        out.append(
            AnchorCheck(
                where,
                False,
                f"it holds no record of station {station}, though seq {max(acked, remembered)} "
                "was acknowledged to it: the station was deleted there",
            )
        )
        return out
    if max(acked, remembered) > central_seq:
        out.append(
            AnchorCheck(
                where,
                False,
                f"it holds station {station} up to seq {central_seq}, though seq "
                f"{max(acked, remembered)} was acknowledged: its head was rolled back",
            )
        )
    common = min(local_seq, central_seq)
    for first in range(1, common + 1, _PAGE):
        last = min(first + _PAGE - 1, common)
        theirs = central.hashes(station, first, last)
        ours = store.hashes(first, last)
        for seq in range(first, last + 1):
            if theirs.get(seq) != ours.get(seq):
                what = (
                    f"the central store lacks seq {seq}"
                    if seq not in theirs
                    else f"seq {seq} differs (local {short_hash(ours.get(seq, ''))}, central "
                    f"{short_hash(theirs[seq])}): one of the two was altered and re-hashed, or "
                    "records were appended to a copy"
                )
                out.append(AnchorCheck(where, False, what))
                return out
    if local_seq < max(central_seq, acked):
        out.append(
            AnchorCheck(
                where,
                False,
                f"the local record ends at seq {local_seq}, but the central store acknowledged "
                f"seq {max(central_seq, acked)}: records were removed here (or this is an "
                "older or truncated copy)",
            )
        )
    elif not out:
        pending = local_seq - central_seq
        out.append(
            AnchorCheck(
                where,
                True,
                f"the {common:,} records both hold match; it acknowledged seq {central_seq}"
                + (f"; {pending:,} later record(s) not shipped yet" if pending else ""),
            )
        )
    return out


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` (a head printed on an export; at least 16 hex digits) as (seq, hash)."""
    seq, sep, hash_ = text.strip().partition(":")
    hash_ = hash_.strip().rstrip("…").lower()
    if (
        not sep
        or not seq.isdigit()
        or len(hash_) < 16
        or any(c not in "0123456789abcdef" for c in hash_)
    ):
        raise ValueError(f"{text!r} is not SEQ:HASH (a seq and at least 16 hex digits of its hash)")
    return int(seq), hash_


def verify_record(
    store: LocalStore,
    *,
    central_url: str | None = None,
    anchors: Sequence[tuple[int, str]] = (),
    echo: Callable[[str], None] = print,
    full: bool = True,
    reset: bool = False,
) -> int:
    """Verify a station's record: chain and projections (in full, or from the last verified
    checkpoint), its sync state, printed heads, and (with ``central_url``) the central store's
    copy; print one line each; the exit code."""
    report = verify_local(store, full=full, reset=reset)
    echo(f"{store.path}: {report.summary()}")
    checks = anchor_local(store) + anchor_paper(store, list(anchors))
    if central_url:
        with open_central(central_url, create=False) as central:
            checks += cross_check(store, central)
    for check in checks:
        echo(f"  {check.line()}")
    if not checks and not central_url:
        echo(
            "  no anchor: nothing was acknowledged yet; give --central URL (or a printed head "
            "with --anchor) to check what the chain alone cannot show"
        )
    return 0 if report.ok and all(c.ok for c in checks) else 1
