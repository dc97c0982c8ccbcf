# Over 500 lines: the four SPC acts at a station (propose, lock, answer, list) share their checks.
"""SPC at the station as a service: propose limits, lock them, list and answer alarms.

- **Propose** (:meth:`SpcService.propose`): limits computed from a baseline of a characteristic's
  current readings (the first N, or a range from one reading to another), never typed; with
  the points of the history that would have alarmed under them and the in-control average run
  length (false-alarm rate) of the rules in force.
- **Lock** (:meth:`SpcService.lock`): a supervisor re-enters their PIN and signs (21 CFR Part 11
  §11.50, §11.70) the ``spc_limits`` record, which holds the whole limit version, its RFC 8785
  hash, the baseline readings' UUIDs and the hash of ``{"format": 1, "limits": <hash>,
  "baseline": [<measurement record hash>, ...]}`` it signs. Re-locking is a new version naming
  its predecessor's hash, with a reason.
- **Answer** (:meth:`SpcService.answer`): the assignable cause and corrective action (codes from
  station.toml), a note, and what happens to each held part (release, reinspect, reject); for a
  characteristic the spec marks critical, a supervisor counter-signs with their PIN.
- **Alarm fatigue** (:meth:`SpcService.fatigue`): per characteristic, the expected false-alarm
  run length of the rules in force, and how many alarms found a real cause versus "no cause
  found"; the rules that only ever produced "no cause".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from inspect_station.clock import format_utc, parse_utc, utc_timestamp
from inspect_station.errors import InspectStationError
from inspect_station.records import LocalSource, RecordSource
from inspect_station.review.signing import (
    authenticate_signer,
    content_hash,
    signature_body,
)
from inspect_station.spc import (
    Arl,
    LimitVersion,
    Replay,
    SpcError,
    SpcSettings,
    derive_limits,
    limits_arl,
    replay,
    select_baseline,
)
from inspect_station.spc.arl import POINT_BUDGET
from inspect_station.spc.fatigue import CauseTally, tally_causes
from inspect_station.spc.resolve import settings_for
from inspect_station.spec.model import Characteristic, CharClass, Kind, PartSpec
from inspect_station.station import StationService
from inspect_station.store import LocalStore, inspections
from inspect_station.store import spc as named
from inspect_station.store.db import Transaction
from inspect_station.text import TextError, check_id, check_line
from inspect_station.users import Role, User
from inspect_station.vocabulary import HeldPartDecision, PartResult

LOCK_MEANING = "approval of control limits"
"""What a supervisor's signature on a limits lock means."""
COUNTERSIGN_MEANING = "approval of SPC alarm answer (critical characteristic)"
"""What a supervisor's counter-signature on an alarm answer means."""
SIGNED_FORMAT = 1
"""Version of the signed-content objects below."""
DECISIONS = tuple(decision.value for decision in HeldPartDecision)
"""What an answer may decide for a held part."""
MAX_NOTE = 500
"""Longest note of an answer, in characters."""
ANSWERERS = frozenset({Role.INSPECTOR, Role.SUPERVISOR})
"""Who may answer an alarm."""
SUPERVISORS = frozenset({Role.SUPERVISOR})
"""Who may lock limits and counter-sign."""


class SpcStationError(InspectStationError):
    """An SPC act at the station cannot be done; the message says why in one sentence."""


@dataclass(frozen=True)
class Proposal:
    """Limits computed from a baseline, shown to a supervisor before they lock them."""

    spec: PartSpec
    """The spec revision whose characteristic is charted."""
    characteristic: Characteristic
    """The characteristic."""
    settings: SpcSettings
    """The SPC settings in force for it."""
    limits: LimitVersion
    """The proposed version (effective from the moment it was computed)."""
    replay: Replay
    """The characteristic's history judged against the proposed limits."""
    arl: Arl
    """In-control average run length of the rules in force."""
    previous: LimitVersion | None
    """The version in force now, which a lock would replace."""
    readings: int
    """Current readings in the history."""

    def lines(self) -> list[str]:
        """The proposal in words, one fact a line (CLI and the limits screen)."""
        lim = self.limits
        ch = self.characteristic
        unit = lim.unit
        kind = "individuals + moving range" if lim.subgroup_size == 1 else "X-bar/R"
        first, last = lim.baseline[0], lim.baseline[-1]
        out = [
            f"{lim.part_number} #{ch.id} {ch.name}: {kind}, subgroup size {lim.subgroup_size}",
            f"baseline: {lim.baseline_count} readings ({first[:8]} … {last[:8]}) "
            f"of {self.readings} in the history",
            f"centre {lim.centre} {unit} · UCL {lim.ucl} · LCL {lim.lcl} · sigma {lim.sigma}",
            f"{'moving range' if lim.subgroup_size == 1 else 'range'}: centre "
            f"{lim.range_centre} · UCL {lim.range_ucl} · LCL {lim.range_lcl}",
            "rules: "
            + "; ".join(f"{n}: {lim.rules.describe(n)}" for n in lim.rules.enabled)
            + (" · CUSUM" if lim.cusum else "")
            + (" · EWMA" if lim.ewma else ""),
            self.replay.summary(),
            self.arl.sentence(),
        ]
        if self.previous is not None:
            out.append(
                f"replaces version {self.previous.version} (centre {self.previous.centre}, "
                f"UCL {self.previous.ucl}, LCL {self.previous.lcl}); a reason is required"
            )
        return out

    def json(self) -> dict[str, Any]:
        """The proposal as JSON (numbers as decimal strings)."""
        return {
            "limits": self.limits.body(),
            "limits_hash": self.limits.content_hash,
            "would_have_alarmed": [
                {
                    "rule": v.rule,
                    "chart": v.chart,
                    "point": v.point,
                    "readings": list(v.refs),
                    "sentence": v.sentence,
                }
                for v in self.replay.violations
            ],
            "summary": self.replay.summary(),
            "arl": self.arl.record(),
            "readings": self.readings,
            "previous_hash": None if self.previous is None else self.previous.content_hash,
        }


@dataclass(frozen=True)
class Locked:
    """A limit version locked: the record that holds it and the signature."""

    limits: LimitVersion
    """The version now in force."""
    record: dict[str, Any]
    """The spc_limits journal record."""


@dataclass(frozen=True)
class AlarmView:
    """An alarm with its violations and its answer, for lists and the review."""

    row: dict[str, Any]
    """The spc_holds row with its answer's columns (None while open)."""
    violations: list[dict[str, Any]] = field(default_factory=list)
    """Its violation rows."""
    reinspected: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Re-inspection UUID -> its current result row, for the re-inspections the answer
    opened that were closed since (one not here is still open)."""

    def part_status(self, part: Mapping[str, Any]) -> str:
        """Where one held part stands after the answer, in a few words."""
        decision = part.get("decision")
        if decision == HeldPartDecision.REJECT:
            return "rejected (in review)"
        if decision == HeldPartDecision.REINSPECT:
            done = self.reinspected.get(str(part.get("reinspection")))
            return "awaiting re-inspection" if done is None else f"re-inspected: {done['result']}"
        return "released"

    @property
    def open(self) -> bool:
        """Whether it still waits for an answer."""
        return self.row.get("answer") is None

    def json(self) -> dict[str, Any]:
        """The alarm as JSON."""
        r = self.row
        return {
            "alarm": r["uuid"],
            "station": r["station"],
            "part_number": r["part_number"],
            "characteristic": r["characteristic"],
            "lot": r["lot"],
            "serial": r["serial"],
            "held_at": r["held_at"],
            "rules": r["rules"],
            "violations": [
                {
                    "rule": v["rule"],
                    "chart": v["chart"],
                    "sentence": v["sentence"],
                    "readings": v["readings"],
                    "limits_hash": v["limits_hash"],
                }
                for v in self.violations
            ],
            "held_parts": r["parts"],
            "open": self.open,
            "answer": None
            if self.open
            else {
                "uuid": r["answer"],
                "cause": r["cause"],
                "action": r["action"],
                "note": r["note"],
                "parts": [{**p, "status": self.part_status(p)} for p in r["decisions"] or []],
                "answered_by": r["answered_by"],
                "answered_at": r["answered_at"],
                "countersigned_by": r["signer"],
            },
        }


@dataclass(frozen=True)
class Fatigue:
    """Alarm-fatigue figures of one characteristic."""

    part_number: str
    """Part number."""
    characteristic: str
    """Balloon id."""
    arl: Arl | None
    """In-control ARL of the rules of the version in force (None: no limits locked)."""
    alarms: int
    """Alarms raised."""
    real_cause: int
    """Alarms answered with an assignable cause."""
    no_cause: int
    """Alarms answered "no cause found"."""
    open: int
    """Alarms not answered yet."""
    by_rule: dict[str, tuple[int, int]]
    """Rule -> (alarms answered with a real cause, answered "no cause")."""

    @property
    def only_no_cause(self) -> list[str]:
        """Rules that fired, were answered, and never found a real cause."""
        return [rule for rule, (real, none) in self.by_rule.items() if none and not real]

    def json(self) -> dict[str, Any]:
        """The figures as JSON."""
        return {
            "part_number": self.part_number,
            "characteristic": self.characteristic,
            "arl": None if self.arl is None else self.arl.record(),
            "alarms": self.alarms,
            "real_cause": self.real_cause,
            "no_cause": self.no_cause,
            "open": self.open,
            "rules_only_no_cause": self.only_no_cause,
        }


def part_effect(part: Mapping[str, Any]) -> str:
    """What an answer did to one held part, in words ('012 rejected: reject 1a2b3c4d in
    review')."""
    serial = part.get("serial", "?")
    if part.get("decision") == HeldPartDecision.REJECT:
        if part.get("already_rejected"):
            return f"{serial} already a reject ({str(part.get('result'))[:8]}), left as it is"
        return f"{serial} rejected: reject {str(part.get('result'))[:8]} awaits disposition"
    if part.get("decision") == HeldPartDecision.REINSPECT:
        return (
            f"{serial} re-inspection {str(part.get('reinspection'))[:8]} opened: held until "
            "re-measured"
        )
    return f"{serial} released"


def read_alarms(source: RecordSource, *, open_only: bool = False) -> list[AlarmView]:
    """Alarms of every station a record source holds (a station's own record, a copy of
    one, a central store), with their violations, answers and the held parts' state, oldest
    first; read-only."""
    source.refresh()
    holds = [
        named.parsed(row, "parts", "rules", "decisions")
        for row in source.rows(named.ALARMS, [None])
    ]
    if open_only:
        holds = [h for h in holds if h["answer"] is None]
    by_alarm: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in source.rows(named.ALL_VIOLATIONS):
        by_alarm.setdefault((row["station"], row["alarm"]), []).append(
            named.parsed(row, "readings")
        )
    opened = [
        str(p["reinspection"]) for h in holds for p in h["decisions"] or [] if p.get("reinspection")
    ]
    closed: dict[str, dict[str, Any]] = {}
    if opened:
        closed = {r["inspection"]: r for r in source.rows(named.INSPECTION_RESULTS, values=opened)}
    return [AlarmView(h, by_alarm.get((h["station"], h["uuid"]), []), closed) for h in holds]


def read_fatigue(
    source: RecordSource, no_cause: str, *, arl_budget: int = POINT_BUDGET
) -> list[Fatigue]:
    """Alarm-fatigue figures per characteristic with limits or alarms in a record source:
    the ARL of the rules of the newest version, alarms with a real cause or none."""
    source.refresh()
    versions: dict[tuple[str, str], list[LimitVersion]] = {}
    for row in source.rows(named.ALL_LIMITS):
        body = json.loads(row["limits"]) if isinstance(row["limits"], str) else row["limits"]
        key = (row["part_number"], row["characteristic"])
        versions.setdefault(key, []).append(LimitVersion.from_body(body, row["limits_hash"]))
    causes = {(h["station"], h["uuid"]): h["cause"] for h in source.rows(named.ALARMS, [None])}
    rows = (
        {**row, "cause": causes.get((row["station"], row["alarm"]))}
        for row in source.rows(named.ALL_VIOLATIONS)
    )
    tallies = tally_causes(rows, no_cause)  # the tally spc report shares (spc.fatigue)
    out = []
    for part, char in sorted(set(versions) | set(tallies)):
        held = versions.get((part, char))
        arl = limits_arl(held[-1], budget=arl_budget) if held else None
        t = tallies.get((part, char), CauseTally())
        out.append(Fatigue(part, char, arl, t.alarms, t.real_cause, t.no_cause, t.open, t.by_rule))
    return out


def open_alarms(source: RecordSource) -> list[dict[str, Any]]:
    """Open SPC alarms of every station a record source holds, oldest first (for the review,
    next to the rejects); ``rules`` and ``parts`` parsed."""
    source.refresh()
    rows = source.rows(named.OPEN_ALARMS)
    return [
        {**row, **{k: json.loads(row[k]) for k in ("rules", "parts") if isinstance(row[k], str)}}
        for row in rows
    ]


def alarms_line(alarms: Sequence[Mapping[str, Any]]) -> str:
    """One line for the review screen: how many alarms are open, the oldest ones named."""
    if not alarms:
        return "SPC: no open alarms."
    shown = "; ".join(
        f"{a['uuid'][:8]} {a['part_number']} #{a['characteristic']} rule "
        f"{', '.join(a['rules'])} ({len(a['parts'])} held, {a['station']})"
        for a in alarms[:3]
    )
    more = f" and {len(alarms) - 3} more" if len(alarms) > 3 else ""
    return f"SPC: {len(alarms)} open alarm(s): {shown}{more}."


def awaiting_reinspection(views: Sequence[AlarmView]) -> list[dict[str, Any]]:
    """The held parts answers sent to re-inspection that were not measured and closed since
    (each: the part's entry in the answer, with the alarm's station)."""
    return [
        {**part, "station": view.row["station"]}
        for view in views
        if not view.open
        for part in view.row["decisions"] or []
        if view.part_status(part) == "awaiting re-inspection"
    ]


def review_line(source: RecordSource) -> str:
    """The review's SPC line: open alarms, and held parts still awaiting re-inspection."""
    line = alarms_line(open_alarms(source))
    waiting = awaiting_reinspection(read_alarms(source))
    if not waiting:
        return line
    shown = ", ".join(f"{p['serial']} (lot {p['lot']}, {p['station']})" for p in waiting[:5])
    more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
    return f"{line} Awaiting SPC re-inspection: {shown}{more}."


class SpcService:
    """The station's SPC acts: proposals, locks, alarms and their answers."""

    def __init__(
        self,
        service: StationService,
        *,
        clock: Callable[[], str] = utc_timestamp,
        arl_budget: int = POINT_BUDGET,
    ) -> None:
        self.service = service
        """The station: its configuration, record, specs and users."""
        self.clock = clock
        """The current UTC time as RFC 3339 text (a limit version takes effect then)."""
        self.arl_budget = arl_budget
        """Simulated points an ARL estimate may spend."""

    @property
    def store(self) -> LocalStore:
        """The station's record."""
        return self.service.store

    # -- what is charted ---------------------------------------------------------------------

    def spec_for(self, part_number: str) -> PartSpec:
        """The newest released revision of ``part_number`` in the spec library."""
        part = check_id(part_number, "part number", max_length=30)
        found = [s for s in self.service.library.released() if s.part_number == part]
        if not found:
            raise SpcStationError(f"There is no released spec of part {part}.")
        return found[-1]

    def characteristic(self, spec: PartSpec, char_id: str) -> Characteristic:
        """The variable characteristic ``char_id`` of the spec; SpcStationError otherwise."""
        ch = spec.get(check_id(char_id, "characteristic", max_length=20))
        if ch is None:
            ids = ", ".join(c.id for c in spec.characteristic)
            raise SpcStationError(
                f"{spec.part_number} has no characteristic {char_id!r} (characteristics: {ids})."
            )
        if ch.kind is not Kind.VARIABLE:
            raise SpcStationError(
                f"#{ch.id} {ch.name} is an attribute; SPC charts measured values only."
            )
        return ch

    def settings(self, spec: PartSpec, ch: Characteristic) -> SpcSettings:
        """The SPC settings in force: station defaults, then the spec, then the characteristic."""
        return settings_for(self.service.config.spc.defaults(), spec.spc, ch.spc)

    def versions(self, part_number: str, char_id: str) -> list[LimitVersion]:
        """Every locked version of the characteristic, oldest first."""
        rows = named.limit_versions(self.store, part_number, char_id)
        return [LimitVersion.from_body(r["limits"], r["limits_hash"]) for r in rows]

    def readings(self, part_number: str, char_id: str) -> list[tuple[str, Decimal]]:
        """The characteristic's current readings, oldest first, as (uuid, value)."""
        rows = named.history(self.store, part_number, char_id)
        return [(r["uuid"], Decimal(r["value"])) for r in rows]

    # -- proposing and locking -----------------------------------------------------------------

    def propose(
        self,
        part_number: str,
        char_id: str,
        *,
        first: int | None = None,
        start: str | None = None,
        end: str | None = None,
        reason: str | None = None,
    ) -> Proposal:
        """Limits from a baseline (``first`` N readings, default the settings' baseline size,
        or the readings from ``start`` to ``end``, UUIDs or unique prefixes)."""
        spec = self.spec_for(part_number)
        ch = self.characteristic(spec, char_id)
        settings = self.settings(spec, ch)
        history = self.readings(spec.part_number, ch.id)
        versions = self.versions(spec.part_number, ch.id)
        previous = versions[-1] if versions else None
        if start is None and end is None and first is None:
            first = settings.baseline * settings.subgroup_size
        try:
            baseline = select_baseline(
                history,
                first=first,
                start=None if start is None else self._resolve(history, start),
                end=None if end is None else self._resolve(history, end),
            )
            reason_text = self._reason(reason, previous)
            limits = derive_limits(
                baseline,
                settings,
                part_number=spec.part_number,
                characteristic=ch.id,
                unit=spec.unit_of(ch),
                resolution=ch.step,
                effective_from=self._effective_from(previous),
                reason=reason_text,
                previous=previous,
            )
        except SpcError as exc:
            raise SpcStationError(str(exc)) from None
        judged = replay(history, limits)
        arl = limits_arl(limits, budget=self.arl_budget)
        return Proposal(spec, ch, settings, limits, judged, arl, previous, len(history))

    def lock(
        self,
        proposal: Proposal,
        *,
        user_id: str,
        pin: str,
    ) -> Locked:
        """Lock a proposal: a supervisor's PIN re-entered, the signed spc_limits record written.

        Refused (nothing written) if another version was locked since the proposal, or a
        baseline reading was corrected since (its record is no longer current).
        """
        limits = proposal.limits
        user = authenticate_signer(
            self.service.users, user_id, pin, "lock control limits", SUPERVISORS
        )
        with self.store.transaction() as tx:
            latest = named.latest_limits_hash(tx, limits.part_number, limits.characteristic)
            expected = None if proposal.previous is None else proposal.previous.content_hash
            if latest != expected:
                raise SpcStationError(
                    f"Control limits of {limits.part_number} #{limits.characteristic} were "
                    "locked meanwhile; propose again from the record as it is now."
                )
            current = {
                r["uuid"] for r in named.history(tx, limits.part_number, limits.characteristic)
            }
            rows = named.measurement_records(tx, limits.baseline)
            by_uuid = {r["uuid"]: r for r in rows}
            if any(ref not in by_uuid or ref not in current for ref in limits.baseline):
                raise SpcStationError(
                    "A baseline reading was corrected or is missing since the proposal; "
                    "propose again."
                )
            content = {
                "format": SIGNED_FORMAT,
                "limits": limits.content_hash,
                "baseline": [by_uuid[ref]["hash"] for ref in limits.baseline],
            }
            body = {
                **proposal.spec.identity(),
                "characteristic": limits.characteristic,
                "version": limits.version,
                "limits_hash": limits.content_hash,
                "previous_hash": limits.previous_hash,
                "effective_from": limits.effective_from,
                "reason": limits.reason,
                "limits": limits.body(),
                "arl": proposal.arl.record(),
                "would_have_alarmed": {
                    "points": proposal.replay.alarms,
                    "by_rule": proposal.replay.by_rule(),
                },
                "signed_content": content,
                "signed_hash": content_hash(content),
                "signature": signature_body(user, LOCK_MEANING, utc_timestamp()),
            }
            record = tx.append("spc_limits", body)
        return Locked(limits, record)

    # -- alarms ---------------------------------------------------------------------------------

    def alarms(self, *, open_only: bool = False) -> list[AlarmView]:
        """Alarms of this station with their violations and answers, oldest first."""
        return read_alarms(LocalSource(self.store), open_only=open_only)

    def find_alarm(self, alarm_id: str) -> AlarmView:
        """The alarm whose UUID is ``alarm_id`` or starts with it (at least 6 characters)."""
        text = (alarm_id or "").strip()
        if len(text) < 6:
            raise SpcStationError("Name an alarm by its id (at least its first 6 characters).")
        rows = named.alarm(self.store, text)
        if not rows:
            raise SpcStationError(f"There is no SPC alarm {text[:40]!r} at this station.")
        if len(rows) > 1:
            raise SpcStationError(f"{text!r} names {len(rows)} alarms; give more of its id.")
        return AlarmView(rows[0], named.violations(self.store, rows[0]["uuid"]))

    def authenticate(self, user_id: str, pin: str) -> User:
        """The inspector or supervisor answering an alarm, PIN re-entered now."""
        return authenticate_signer(
            self.service.users, user_id, pin, "answer an SPC alarm", ANSWERERS
        )

    def is_critical(self, alarm: AlarmView) -> bool:
        """Whether the alarm's characteristic is critical in its spec revision."""
        spec = self.service.library.by_hash(alarm.row["spec_hash"])
        ch = spec.get(alarm.row["characteristic"]) if spec is not None else None
        if ch is None:
            return True  # the spec is gone: ask for the counter-signature rather than not
        return ch.class_ is CharClass.CRITICAL

    def answer(
        self,
        alarm_id: str,
        *,
        cause: str,
        action: str,
        note: str,
        by: User,
        decision: str = "release",
        decisions: Mapping[str, str] | None = None,
        countersign: tuple[str, str] | None = None,
        pin_confirmed: bool = False,
    ) -> dict[str, Any]:
        """Answer an open alarm; returns the spc_answer record (durable on return).

        ``decision`` is what happens to every held part, ``decisions`` overrides it per part
        (``SERIAL`` or ``LOT:SERIAL`` -> decision). A critical characteristic needs
        ``countersign`` (a supervisor's user id and PIN), unless ``by`` is a supervisor who
        re-entered their PIN for this answer (``pin_confirmed``: ``by`` then signs).
        """
        spc = self.service.config.spc
        cause = self._code(cause, spc.causes, "cause")
        action = self._code(action, spc.actions, "corrective action")
        try:
            note_text = check_line(note, "note", max_length=MAX_NOTE)
        except TextError as exc:
            raise SpcStationError(exc.message) from None
        view = self.find_alarm(alarm_id)
        if view.row["station"] != self.store.station:
            raise SpcStationError(
                f"SPC alarm {view.row['uuid'][:8]} was raised at station {view.row['station']}: "
                "it is answered there, in its own record; nothing was recorded."
            )
        if not view.open:
            raise SpcStationError(f"SPC alarm {view.row['uuid'][:8]} is already answered.")
        parts = self._decisions(view, decision, decisions or {})
        critical = self.is_critical(view)
        signer: User | None = None
        if critical:
            if countersign is not None:
                signer = authenticate_signer(
                    self.service.users,
                    countersign[0],
                    countersign[1],
                    "counter-sign an SPC alarm answer",
                    SUPERVISORS,
                )
            elif by.role is Role.SUPERVISOR and pin_confirmed:
                signer = by
            else:
                raise SpcStationError(
                    f"#{view.row['characteristic']} is critical: a supervisor must counter-sign "
                    "the answer with their PIN; nothing was recorded."
                )
        with self.store.transaction() as tx:
            if named.answered(tx, view.row["uuid"]):
                raise SpcStationError(f"SPC alarm {view.row['uuid'][:8]} was just answered.")
            alarm_hash = named.record_hash(tx, view.row["uuid"])
            containment = {
                "alarm": view.row["uuid"],
                "alarm_station": view.row["station"],
                "alarm_hash": alarm_hash,
                "characteristic": view.row["characteristic"],
                "rules": view.row["rules"],
                "cause": cause,
                "action": action,
                "answered_by": by.user_id,
            }
            done = [self._act(tx, view, part, containment) for part in parts]
            content = {
                "format": SIGNED_FORMAT,
                "alarm": alarm_hash,
                "cause": cause,
                "action": action,
                "note": note_text,
                "parts": parts,
            }
            body = {
                "alarm": view.row["uuid"],
                "alarm_station": view.row["station"],
                "part_number": view.row["part_number"],
                "characteristic": view.row["characteristic"],
                "cause": cause,
                "cause_label": spc.causes[cause],
                "action": action,
                "action_label": spc.actions[action],
                "note": note_text,
                "parts": done,
                "answered_by": by.user_id,
                "critical": critical,
                "no_cause": cause == spc.no_cause,
                "signed_hash": content_hash(content),
                "signature": None
                if signer is None
                else signature_body(signer, COUNTERSIGN_MEANING, utc_timestamp()),
            }
            return tx.append("spc_answer", body)

    def _act(
        self,
        tx: Transaction,
        view: AlarmView,
        part: dict[str, str],
        containment: dict[str, Any],
    ) -> dict[str, Any]:
        """Inside the answer's transaction: do what the answer decides for one held part (a
        reject through the reject path, a re-inspection opened); the part's entry in the
        answer, with the record written for it. SpcStationError rolls the whole answer back."""
        decision = part["decision"]
        if decision == HeldPartDecision.RELEASE:
            return dict(part)
        serial, lot, inspection = part["serial"], part["lot"], part["inspection"]
        short = view.row["uuid"][:8]
        opened = named.inspection_row(tx, inspection)
        spec = None if opened is None else self.service.library.by_hash(opened["spec_hash"])
        if opened is None or spec is None:
            raise SpcStationError(
                f"Part {serial} of lot {lot} cannot be {decision}ed: the spec revision it was "
                "measured against is not in this station's library; nothing was recorded."
            )
        latest = inspections.latest_inspection(tx, lot, serial)
        if latest != inspection:
            raise SpcStationError(
                f"Part {serial} of lot {lot} was re-inspected after alarm {short} held it "
                f"(inspection {str(latest)[:8]}): its held inspection is superseded; release "
                "it here and decide on the re-inspection in review; nothing was recorded."
            )
        result = inspections.current_result(tx, inspection)
        if result is not None and result.result == PartResult.REJECT.value:
            if decision == HeldPartDecision.REJECT:
                return {**part, "result": result.uuid, "already_rejected": True}
            raise SpcStationError(
                f"Part {serial} of lot {lot} is already a reject (reject {result.uuid[:8]}) "
                "awaiting its disposition in review, which decides any re-inspection; answer "
                "reject or release for it; nothing was recorded."
            )
        inspector = by_user = containment["answered_by"]
        if decision == HeldPartDecision.REJECT:
            code = self.service.config.spc.containment_defect
            record = self.service.recorder.contain_reject(
                tx,
                spec=spec,
                inspection=inspection,
                lot=lot,
                serial=serial,
                inspector=inspector,
                defect_code=code,
                note=(
                    f"SPC containment: alarm {short} on #{view.row['characteristic']} (rule "
                    f"{', '.join(view.row['rules'])}), rejected by {by_user}"
                ),
                containment=containment,
            )
            return {**part, "result": record["uuid"]}
        record = self.service.recorder.contain_reinspect(
            tx,
            spec=spec,
            lot=lot,
            serial=serial,
            inspector=inspector,
            reinspection_of=inspection if result is None else result.uuid,
            containment=containment,
        )
        return {**part, "reinspection": record["uuid"]}

    # -- alarm fatigue ---------------------------------------------------------------------------

    def fatigue(self) -> list[Fatigue]:
        """Per characteristic with limits or alarms: ARL of the rules in force, causes found."""
        return read_fatigue(
            LocalSource(self.store), self.service.config.spc.no_cause, arl_budget=self.arl_budget
        )

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _resolve(history: Sequence[tuple[str, Decimal]], ref: str) -> str:
        """The UUID of the reading ``ref`` names (a UUID or a unique prefix of 6+ characters)."""
        text = (ref or "").strip().lower()
        if len(text) < 6:
            raise SpcStationError("Name a reading by its id (at least its first 6 characters).")
        found = [uuid for uuid, _ in history if uuid.startswith(text)]
        if len(found) != 1:
            what = "no" if not found else f"{len(found)}"
            raise SpcStationError(
                f"{text[:40]!r} names {what} current reading(s) of this characteristic."
            )
        return found[0]

    @staticmethod
    def _reason(reason: str | None, previous: LimitVersion | None) -> str:
        """The lock's reason: required when re-locking, 'first lock' by default otherwise."""
        if reason is None or not reason.strip(" "):
            if previous is not None:
                raise SpcStationError(
                    f"Limits version {previous.version} is in force: re-locking needs a reason."
                )
            return "first lock from the baseline"
        try:
            return check_line(reason, "reason", max_length=500)
        except TextError as exc:
            raise SpcStationError(exc.message) from None

    def _effective_from(self, previous: LimitVersion | None) -> str:
        """Now, in whole microseconds; strictly after the previous version's start."""
        now = self.clock()
        if previous is not None and now <= previous.effective_from:
            now = format_utc(parse_utc(previous.effective_from) + dt.timedelta(microseconds=1))
        return now

    @staticmethod
    def _code(value: str, codes: Mapping[str, str], what: str) -> str:
        """A code of the station's list, as typed; SpcStationError naming the list otherwise."""
        try:
            code = check_id(value, what, max_length=20)
        except TextError as exc:
            raise SpcStationError(exc.message) from None
        if code not in codes:
            raise SpcStationError(
                f"Unknown {what} code {code!r}; the station's codes are {', '.join(codes)}."
            )
        return code

    @staticmethod
    def _decisions(
        view: AlarmView, default: str, overrides: Mapping[str, str]
    ) -> list[dict[str, str]]:
        """What happens to each held part: the default, or the override naming it."""
        if default not in DECISIONS:
            raise SpcStationError(
                f"A held part is released, reinspected or rejected, not {default[:40]!r}."
            )
        parts = view.row["parts"]
        used: set[str] = set()
        out = []
        for part in parts:
            chosen = default
            for key in (f"{part['lot']}:{part['serial']}", part["serial"]):
                if key in overrides:
                    chosen = overrides[key]
                    used.add(key)
                    break
            if chosen not in DECISIONS:
                raise SpcStationError(
                    f"Part {part['serial']} is released, reinspected or rejected, "
                    f"not {chosen[:40]!r}."
                )
            out.append({**part, "decision": chosen})
        unknown = [key for key in overrides if key not in used]
        if unknown:
            raise SpcStationError(
                f"Part {unknown[0][:40]!r} is not held by this alarm; held: "
                + ", ".join(p["serial"] for p in parts)
                + "."
            )
        return out
