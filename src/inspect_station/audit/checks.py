"""The audit's sections: each reads the record through a ``RecordSource`` and judges the rows.

Every section is a function ``(context) -> Section``; they share nothing but the context, so
one can be added (or wired differently) without touching the others.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspect_station.audit.model import Finding, Section
from inspect_station.calibration import CalibrationResult
from inspect_station.records import ChainCheck, RecordSource
from inspect_station.review.queries import Standing, load_dispositions, load_resolutions
from inspect_station.store import audit as q
from inspect_station.store import calibrations
from inspect_station.vocabulary import Disposition

ISO_7152 = "ISO 9001 7.1.5.2"
AS_87 = "ISO 9001 / AS9100 8.7"
ISO_72 = "ISO 9001 7.2"
PART11 = "21 CFR 11.10(a)(e)"
SPC = "AS9100 8.5.1 / IATF 9.1.1.1"

SECOND_SIGNER = frozenset({Disposition.USE_AS_IS, Disposition.REPAIR})
"""Dispositions that take an authorised second signer (concession, repair)."""


@dataclass(frozen=True)
class Gauge:
    """A gauge asset configured at the station the audit runs at."""

    asset: str
    """Asset id."""
    due: dt.date
    """Calibration due date in the configuration."""


@dataclass(frozen=True)
class SyncFacts:
    """What the store that owns them says about shipping and heads (gathered by the caller)."""

    last_synced: dict[str, str | None] = field(default_factory=dict)
    """Station -> UTC time of its last successful sync (None: never)."""
    rolled_back: list[tuple[str, int, str]] = field(default_factory=list)
    """(station, seq acknowledged before, what is wrong) for heads that moved backwards."""
    anchors: list[tuple[str, str]] = field(default_factory=list)
    """(station, what is wrong) for other anchors that disagree with a chain."""


@dataclass
class Context:
    """What every section reads: the source, the date, the limits, the configuration."""

    source: RecordSource
    """The snapshot of the record read."""
    where: str
    """The options that name the source in a command (``--db FILE`` or ``--central URL``)."""
    today: dt.date
    """The date the audit is for (UTC)."""
    now: dt.datetime
    """The time the audit is for (UTC)."""
    since: str = ""
    """Only records from this time on ('' for all)."""
    warn_days: int = 14
    """A gauge due within this many days is 'due soon'."""
    stale_hours: int = 24
    """A station not synced for longer is reported."""
    gauges: Sequence[Gauge] = ()
    """Gauges configured at this station."""
    chains: list[ChainCheck] | None = None
    """The chains' verification (None: not verified)."""
    sync: SyncFacts | None = None
    """Shipping and anchor facts (None: the source has none)."""

    def command(self, *words: str) -> str:
        """``inspect-station WORDS WHERE``, quoted for a shell."""
        return " ".join(["inspect-station", *(shlex.quote(w) for w in words), self.where]).strip()


def _refs(rows: Iterable[dict[str, Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((r["station"], r["seq"]) for r in rows)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- ISO 9001 7.1.5.2: measuring equipment --------------------------------------------------


def calibration_section(ctx: Context) -> Section:
    """Gauges overdue or due soon; results taken after a due date or since a failed calibration."""
    section = Section(
        "calibration",
        "Measuring equipment: calibrated, identified, and results of unfit gauges assessed",
        ISO_7152,
    )
    events = ctx.source.rows(calibrations.ALL) if ctx.source.has_table("calibrations") else []
    by_asset: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_asset.setdefault(e["asset"], []).append(e)
    # Gauges in service: configured at this station, or followed by calibration records. A gauge
    # known only from old results may have been retired; what it measured after its due date is
    # reported below all the same.
    due: dict[str, tuple[str | None, str, tuple[tuple[str, int], ...]]] = {}
    for g in ctx.gauges:
        due[g.asset] = (g.due.isoformat(), "its due date in station.toml", ())
    for asset, history in by_asset.items():
        last = history[-1]
        if last["result"] == CalibrationResult.PASS:
            due[asset] = (last["due"], "its last calibration record", _refs([last]))
        else:
            section.findings.append(
                Finding(
                    ISO_7152,
                    "gauge-failed",
                    f"Gauge {asset} failed its last calibration ({last['calibrated_on']}, "
                    f"certificate {last['certificate']}) and has not passed one since.",
                    _refs([last]),
                    ctx.command("trace", "gauge", asset),
                )
            )
            due.pop(asset, None)
    soon = ctx.today + dt.timedelta(days=ctx.warn_days)
    for asset, (date, origin, refs) in sorted(due.items()):
        if not date:
            continue
        when = dt.date.fromisoformat(date)
        if when < ctx.today:
            check, text = "gauge-overdue", f"is overdue: due {date}"
        elif when <= soon:
            check, text = "gauge-due-soon", f"is due soon: {date}"
        else:
            continue
        section.findings.append(
            Finding(
                ISO_7152,
                check,
                f"Gauge {asset} {text} ({origin}).",
                refs,
                ctx.command("trace", "gauge", asset),
            )
        )
    measurements = ctx.source.rows(q.GAUGE_MEASUREMENTS, [ctx.since])
    late: dict[str, list[dict[str, Any]]] = {}
    for m in measurements:
        recorded_due = m["gauge_calibration_due"]
        if recorded_due and m["measured_at"][:10] > recorded_due:
            late.setdefault(m["gauge_asset"], []).append(m)
    for asset, rows in sorted(late.items()):
        section.findings.append(
            Finding(
                ISO_7152,
                "result-after-due",
                f"{_plural(len(rows), 'result')} taken with gauge {asset} after its calibration "
                f"due date ({rows[0]['gauge_calibration_due']}), from {rows[0]['measured_at']}.",
                _refs(rows),
                ctx.command("trace", "gauge", asset, "--since", rows[0]["measured_at"][:10]),
            )
        )
    used: dict[str, list[dict[str, Any]]] = {}
    for m in measurements:
        used.setdefault(m["gauge_asset"], []).append(m)
    for asset, history in sorted(by_asset.items()):
        for index, event in enumerate(history):
            if event["result"] != CalibrationResult.FAIL:
                continue
            good = [e for e in history[:index] if e["result"] == CalibrationResult.PASS]
            start = good[-1]["calibrated_on"] if good else ""
            later = [e for e in history[index + 1 :] if e["result"] == CalibrationResult.PASS]
            end = later[0]["calibrated_on"] if later else None
            suspect = [
                m
                for m in used.get(asset, [])
                if m["measured_at"][:10] >= start and (end is None or m["measured_at"][:10] < end)
            ]
            if not suspect:
                continue
            since = f"its last good calibration ({start})" if start else "it was first used"
            section.findings.append(
                Finding(
                    ISO_7152,
                    "result-suspect",
                    f"Gauge {asset} failed calibration on {event['calibrated_on']} (certificate "
                    f"{event['certificate']}): {_plural(len(suspect), 'result')} taken with it "
                    f"since {since} are suspect and must be assessed.",
                    _refs(suspect),
                    ctx.command("trace", "gauge", asset, *(["--since", start] if start else [])),
                )
            )
    failed = sum(1 for h in by_asset.values() if h[-1]["result"] != CalibrationResult.PASS)
    section.notes.append(
        f"{_plural(len(due) + failed, 'gauge')} checked against {ctx.today} "
        f"(due soon: within {ctx.warn_days} days); "
        f"{_plural(len(events), 'calibration record')}; "
        f"{_plural(len(measurements), 'gauge result')} read."
    )
    return section


# -- 8.7: nonconforming output ----------------------------------------------------------------


def nonconforming_section(ctx: Context) -> Section:
    """Rejects without a disposition, awaiting a second signature, conflicting, or lacking the
    second signer a concession or a repair takes."""
    section = Section(
        "nonconforming",
        "Nonconforming output: identified, dispositioned by someone with authority",
        AS_87,
    )
    rejects = ctx.source.rows(q.REJECTS, [ctx.since])
    ids = [r["uuid"] for r in rejects]
    dispositions = load_dispositions(ctx.source, ids)
    resolutions = load_resolutions(ctx.source, ids)
    for reject in rejects:
        short = reject["uuid"][:8]
        show = ctx.command("rejects", "show", short)
        part = f"part {reject['serial']} of lot {reject['lot']} ({reject['part_number']})"
        standing = Standing(
            tuple(dispositions.get(reject["uuid"], [])),
            tuple(resolutions.get(reject["uuid"], [])),
        )
        refs = _refs([reject]) + tuple((d.station, d.seq) for d in standing.dispositions)
        if not standing.dispositions:
            section.findings.append(
                Finding(
                    AS_87,
                    "reject-undisposed",
                    f"Reject {short} of {part}, closed {reject['closed_at']}, has no disposition.",
                    refs,
                    show,
                )
            )
            continue
        if standing.conflict:
            kinds = ", ".join(d.disposition.value for d in standing.dispositions)
            section.findings.append(
                Finding(
                    AS_87,
                    "disposition-conflict",
                    f"Reject {short} of {part} has conflicting dispositions ({kinds}) and no "
                    "resolution stands: none of them is in force.",
                    refs,
                    show,
                )
            )
            continue
        d = standing.in_force
        if d is None:
            continue
        signers = {s.user_id for s in d.signatures}
        if not d.complete:
            section.findings.append(
                Finding(
                    AS_87,
                    "awaiting-second-signature",
                    f"The {d.disposition.label} of reject {short} ({part}) awaits a second "
                    f"signature: {len(d.signatures)} of {d.signers_required}; it is not in "
                    "force.",
                    refs,
                    show,
                )
            )
        elif d.disposition in SECOND_SIGNER and len(signers) < 2:
            section.findings.append(
                Finding(
                    AS_87,
                    "no-second-signer",
                    f"The {d.disposition.label} of reject {short} ({part}) was signed by "
                    f"{_plural(len(signers), 'person')} only ({', '.join(sorted(signers))}): a "
                    "concession or repair needs a second authorised signer.",
                    refs,
                    show,
                )
            )
    section.notes.append(f"{_plural(len(rejects), 'reject')} in force read.")
    return section


# -- 7.2: competence --------------------------------------------------------------------------


def _qualified(patterns: list[str], part_number: str) -> bool:
    return any(fnmatch.fnmatchcase(part_number.upper(), p.upper()) for p in patterns)


def competence_section(ctx: Context) -> Section:
    """Inspections by users not qualified (or not active) for the part at the time, and new
    revisions used before the inspector acknowledged what changed."""
    section = Section(
        "competence",
        "Competence: inspections by qualified people who acknowledged the revision they used",
        ISO_72,
    )
    users: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for u in ctx.source.rows(q.USER_HISTORY):
        users.setdefault((u["station"], u["user_id"]), []).append(u)
    acks: dict[tuple[str, str, str], int] = {}
    for a in ctx.source.rows(q.REVISION_ACKS):
        acks.setdefault((a["station"], a["user_id"], a["spec_hash"]), a["seq"])
    revisions: dict[str, list[dict[str, Any]]] = {}
    for s in ctx.source.rows(q.SPEC_REVISIONS):
        revisions.setdefault(s["part_number"], []).append(s)
    inspections = ctx.source.rows(q.INSPECTIONS, [ctx.since])
    unqualified: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    first_use: dict[tuple[str, str, str], dict[str, Any]] = {}
    for i in inspections:
        key = (i["station"], i["inspector"])
        state = [u for u in users.get(key, []) if u["seq"] < i["seq"]]
        if not state:
            why = "was not a user of the station"
        else:
            u = state[-1]
            patterns = json.loads(u["qualifications"] or "[]")
            if not u["active"]:
                why = "was disabled"
            elif not _qualified(patterns, i["part_number"]):
                why = (
                    f"was not qualified for {i['part_number']} (qualified: "
                    + (", ".join(patterns) or "nothing")
                    + ")"
                )
            else:
                why = ""
        if why:
            unqualified.setdefault(
                (i["station"], i["inspector"], i["part_number"], why), []
            ).append(i)
        first_use.setdefault((i["station"], i["inspector"], i["spec_hash"]), i)
    for (station, inspector, part, why), rows in sorted(unqualified.items()):
        lots = sorted({r["lot"] for r in rows})
        section.findings.append(
            Finding(
                ISO_72,
                "not-qualified",
                f"{_plural(len(rows), 'inspection')} of {part} at {station} by {inspector}, who "
                f"{why} at the time (lots {', '.join(lots)}).",
                _refs(rows),
                ctx.command("export", "lot", lots[0], "--format", "json"),
            )
        )
    for (station, inspector, spec_hash), i in sorted(first_use.items()):
        earlier = [
            s
            for s in revisions.get(i["part_number"], [])
            if s.get("station", station) == station
            and s["seq"] < i["seq"]
            and s["revision"] != i["revision"]
        ]
        ack = acks.get((station, inspector, spec_hash))
        if earlier and (ack is None or ack > i["seq"]):
            section.findings.append(
                Finding(
                    ISO_72,
                    "revision-not-acknowledged",
                    f"{inspector} first inspected {i['part_number']} revision {i['revision']} at "
                    f"{station} (lot {i['lot']}, {i['opened_at']}) without having acknowledged "
                    f"what changed since revision {earlier[-1]['revision']}.",
                    _refs([i]),
                    ctx.command("export", "lot", i["lot"], "--format", "json"),
                )
            )
    section.notes.append(
        f"{_plural(len(inspections), 'inspection')} checked against "
        f"{_plural(sum(len(v) for v in users.values()), 'user record')}. Qualifications carry no "
        "expiry date in this record: one ends when an administrator removes it (users qualify "
        "--remove) or disables the user, and every inspection after that is listed above."
    )
    return section


# -- records: the chain, its anchors, shipping --------------------------------------------------


def records_section(ctx: Context) -> Section:
    """Chains that do not verify, heads that moved backwards, stations not synced lately."""
    section = Section(
        "records",
        "Records: complete, unaltered, anchored and shipped",
        PART11,
    )
    verify = ctx.command("verify")
    if ctx.chains is None:
        section.notes.append("Chains not verified (give --full-verify to verify them).")
    else:
        rolled = {station for station, _, _ in ctx.sync.rolled_back} if ctx.sync else set()
        for check in ctx.chains:
            if check.ok:
                continue
            if check.station in rolled and "moved backwards" in (check.reason or ""):
                continue  # reported once, as the head that moved backwards (below)
            section.findings.append(
                Finding(
                    PART11,
                    "chain-broken",
                    f"The chain of station {check.station} does not verify: seq {check.bad_seq}: "
                    f"{check.reason}",
                    ((check.station, check.bad_seq),) if check.bad_seq else (),
                    verify,
                )
            )
        section.notes.append(
            f"{_plural(len(ctx.chains), 'chain')} verified (records and query tables)."
        )
    sync = ctx.sync
    if sync is None:
        section.notes.append("No sync state or head history in this source.")
        return section
    for station, seq, what in sync.rolled_back:
        section.findings.append(
            Finding(
                PART11,
                "head-moved-backwards",
                f"The head of station {station} moved backwards: {what}",
                ((station, seq),),
                verify,
            )
        )
    for station, what in sync.anchors:
        section.findings.append(
            Finding(PART11, "anchor-disagrees", f"Station {station}: {what}", (), verify)
        )
    limit = ctx.now - dt.timedelta(hours=ctx.stale_hours)
    for station, at in sorted(sync.last_synced.items()):
        if at is not None and _time(at) >= limit:
            continue
        text = f"last synced {at}" if at else "never synced"
        section.findings.append(
            Finding(
                PART11,
                "not-synced",
                f"Station {station} has not been synced for more than {ctx.stale_hours} hours "
                f"({text}): its records have no central copy since.",
                (),
                # Run at the station (a central store cannot ship for it), or on its file.
                ctx.command("sync") if ctx.where.startswith("--db") else "inspect-station sync",
            )
        )
    section.notes.append(
        "Exports are not recorded in the journal, so which chain an export was made from is "
        "shown on the export itself (its chain heads and verification), not here."
    )
    return section


def _time(text: str) -> dt.datetime:
    """An RFC 3339 UTC time (``...Z`` or with an offset) as an aware datetime."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# -- SPC ----------------------------------------------------------------------------------------


def spc_section(ctx: Context) -> Section:
    """SPC alarms nobody answered; 'no SPC records' where the source holds none."""
    section = Section("spc", "Statistical process control: every alarm answered", SPC)
    if not (ctx.source.has_table("spc_holds") and ctx.source.has_table("spc_answers")):
        section.notes.append("No SPC records in this source.")
        return section
    rows = ctx.source.rows(q.SPC_UNANSWERED)
    for row in rows:
        try:
            rules = ", ".join(str(r) for r in json.loads(row.get("rules") or "[]"))
            parts = len(json.loads(row.get("parts") or "[]"))
        except (TypeError, ValueError):
            rules, parts = "?", 0
        section.findings.append(
            Finding(
                SPC,
                "spc-unanswered",
                f"SPC alarm at {row['station']}:{row['seq']} ({row['part_number']} "
                f"#{row['characteristic']}, lot {row['lot']}, rule {rules or '?'}) has no "
                f"answer; it holds {_plural(parts, 'part')}.",
                ((row["station"], row["seq"]),),
                # Lists the alarms from the record audited (its --db or --central); the
                # answer is given at the alarm's station.
                ctx.command("spc", "alarms", "--open"),
            )
        )
    section.notes.append(f"{_plural(len(rows), 'unanswered alarm')}.")
    return section


SECTIONS = (
    calibration_section,
    nonconforming_section,
    competence_section,
    records_section,
    spc_section,
)
"""The sections of the report, in order."""
