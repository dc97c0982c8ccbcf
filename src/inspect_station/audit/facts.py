"""What the records section needs beyond the read model, from the module that owns it.

A station's sync state lives in its local file (``LocalStore.sync_states``), a central store's
history of acknowledged heads in the central store (``CentralStore.acknowledged_heads``); both
are read here, by their owners' own methods, and handed to the audit as :class:`SyncFacts`.
"""

from __future__ import annotations

from inspect_station.audit.checks import SyncFacts
from inspect_station.store import LocalStore
from inspect_station.sync.central import AcknowledgedHead, CentralStore
from inspect_station.sync.verify import anchor_local, verify_central_store


def local_facts(store: LocalStore, *, full: bool) -> SyncFacts:
    """A station's shipping (its last successful sync) and, with ``full``, its sync-state
    anchors: a head a central store acknowledged that the chain no longer holds."""
    states = store.sync_states()
    successes = [s["last_success_at"] for s in states if s["last_success_at"]]
    head_seq, _ = store.head()
    last = max(successes) if successes else None
    facts = SyncFacts(last_synced={store.station: last} if head_seq else {})
    if full:
        for check in anchor_local(store):
            if check.ok:
                continue
            if "the record ends at seq" in check.detail:
                seq = max(s["acked_seq"] for s in states)
                facts.rolled_back.append((store.station, seq, f"{check.anchor}: {check.detail}."))
            else:
                facts.anchors.append((store.station, f"{check.anchor}: {check.detail}."))
    return facts


def central_facts(
    central: CentralStore, heads: dict[str, tuple[int, str]], *, full: bool
) -> SyncFacts:
    """Every station's last acknowledged sync, and heads behind (or missing from) the central
    store's append-only history of acknowledged heads; with ``full`` every chain streamed back
    and checked against that history."""
    history: dict[str, list[AcknowledgedHead]] = {}
    for entry in central.acknowledged_heads():
        history.setdefault(entry.station, []).append(entry)
    facts = SyncFacts(
        last_synced={
            station: max((e.acknowledged_at for e in history.get(station, [])), default=None)
            for station in heads
        }
    )
    for station, entries in sorted(history.items()):
        latest = max(entries, key=lambda e: e.seq)
        now = heads.get(station, (0, ""))[0]
        if latest.seq > now:
            what = (
                f"seq {latest.seq} was acknowledged at {latest.acknowledged_at}, but the store "
                + (f"holds it only up to seq {now}." if now else "holds no record of it.")
            )
            facts.rolled_back.append((station, latest.seq, what))
    if full:
        flagged = {s for s, _, _ in facts.rolled_back}
        for report in verify_central_store(central):
            if not report.ok and report.station not in flagged:
                facts.anchors.append((report.station, f"{report.line()}."))
    return facts
