"""A station with a small SPC spec, its users, and parts measured through a part session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from userkit import PINS, add_users

from inspect_station.config import StationConfig
from inspect_station.measuring import Notice, PartClosed, PartSession, Recorded
from inspect_station.measuring.spc_service import SpcService
from inspect_station.station import StationService
from inspect_station.wiring import build_service

TODAY = dt.date(2026, 11, 25)

SPEC = """format = 1
part_number = "SPC-1"
revision = "A"
description = "SPC test part"
status = "released"
unit = "mm"

[spc]
baseline = 10

[[characteristic]]
id = "1"
name = "Length"
nominal = 10.00
tolerance = [-0.50, 0.50]
class = "major"
decimals = 2

[[characteristic]]
id = "2"
name = "Bore"
nominal = 5.000
tolerance = [-0.500, 0.500]
class = "critical"
resolution = 0.001
"""

BASELINE = ["10.01", "9.99", "10.02", "10.00", "9.98", "10.01", "10.00", "9.99", "10.02", "10.00"]
"""Ten in-control readings of #1: centre 10.002, moving range about 0.02."""
BORE = "5.000"
"""A #2 reading that never alarms while #2 has no limits."""


def spc_station(tmp_path: Path, spec: str = SPEC, **config: object) -> StationService:
    """A station whose only spec is ``spec``, with ann (inspector), sam and kim (supervisors)."""
    specs = tmp_path / "specs"
    specs.mkdir(exist_ok=True)
    (specs / "SPC-1-A.toml").write_text(spec)
    settings = StationConfig(
        station="SPC-BENCH", db=tmp_path / "station.db", specs=[specs], **config
    )
    service = build_service(settings, today=TODAY)
    add_users(service.store)
    return service


def session_of(service: StationService, lot: str = "L-1", user: str = "ann") -> PartSession:
    """A part session of ``user`` on a new lot of SPC-1."""
    who = service.users.get(user)
    spec = service.library.get("SPC-1@A")
    progress = service.start_lot(who, spec, lot, lot_size=500)
    return PartSession(service, who, spec, progress)


def measure_part(session: PartSession, length: str, bore: str = BORE) -> list[Recorded]:
    """Open the next part, enter #1 and #2 by hand; the outcomes (the part is left open)."""
    session.open_part()
    out = []
    for char, value in (("1", length), ("2", bore)):
        step = session.manual(char, value, "test bench")
        outcome = session.record(step)  # type: ignore[arg-type]
        assert isinstance(outcome, Recorded), outcome
        out.append(outcome)
    return out


def measure_parts(session: PartSession, lengths: Iterable[str]) -> None:
    """Measure and close one part per length (#2 at BORE)."""
    for length in lengths:
        measure_part(session, length)
        closed = session.close_part()
        assert isinstance(closed, PartClosed), closed


def locked(service: StationService, char: str = "1", first: int = 10) -> SpcService:
    """The SPC service after sam locked limits of ``char`` from its first ``first`` readings."""
    spc = SpcService(service, arl_budget=20_000)
    proposal = spc.propose("SPC-1", char, first=first)
    spc.lock(proposal, user_id="sam", pin=PINS["sam"])
    return spc


def kinds(service: StationService) -> list[str]:
    """The journal's record kinds, in order."""
    return [row["kind"] for row in service.store.query("SELECT kind FROM journal ORDER BY seq")]


def is_refusal(step: object, words: str) -> bool:
    """Whether ``step`` is an error notice containing ``words``."""
    return isinstance(step, Notice) and step.error and words in step.message
