"""The report's bulk path: the same report with numpy (vectorised rules, float arrays) and
without it (the reference monitor, reading by reading); numpy never loaded at start."""

from __future__ import annotations

import random
import subprocess
import sys
from decimal import Decimal

import pytest
from reportkit import correct, record_values

from inspect_station.records import LocalSource
from inspect_station.reports import spc as report_module
from inspect_station.reports.spc import ReportScope, spc_report
from inspect_station.spc import SpcSettings, derive_limits, replay_as_it_was
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore


def _drifting(count: int, seed: int) -> list[str]:
    """An in-control start, then a shift and a trend: several rules fire."""
    rng = random.Random(seed)
    out = [f"{rng.gauss(50.0, 0.004):.3f}" for _ in range(count)]
    out += [f"{50.006 + rng.gauss(0, 0.002):.3f}" for _ in range(12)]
    out += [f"{50.000 + 0.002 * i:.3f}" for i in range(8)]
    return out


def _doc(store: LocalStore, **scope: str) -> dict:
    doc = spc_report(LocalSource(store), ReportScope(**scope), page=7).json()
    doc.pop("generated_at")
    return doc


def test_without_numpy_the_report_replays_reading_by_reading_and_says_the_same(
    store: LocalStore, grd: PartSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_values(store, grd, "L-1", "1", _drifting(40, seed=1), manual=[3, 30])
    correct(store, grd, "L-1", "S0005", "1", "50.001")
    record_values(store, grd, "L-1", "2", [f"0.0{10 + i % 7}" for i in range(45)])
    with_numpy = _doc(store, part_number="GRD-5")
    assert sum(len(c["violations"]) for c in with_numpy["characteristics"]) >= 3
    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now fails
    without = _doc(store, part_number="GRD-5")
    assert without == with_numpy


def test_each_run_of_readings_is_judged_against_the_version_then_in_force(
    store: LocalStore, grd: PartSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = _drifting(40, seed=2)
    uuids = record_values(store, grd, "L-1", "1", values)
    rows = store.query("SELECT uuid, measured_at FROM measurements ORDER BY seq")
    times = {r["uuid"]: r["measured_at"] for r in rows}
    settings = SpcSettings()

    def version(first: int, when: str, previous=None):
        return derive_limits(
            list(
                zip(
                    uuids[first : first + 25], map(Decimal, values[first : first + 25]), strict=True
                )
            ),
            settings,
            part_number="GRD-5",
            characteristic="1",
            unit="mm",
            resolution=Decimal("0.001"),
            effective_from=when,
            reason="lock" if previous is None else "re-lock",
            previous=previous,
        )

    # Version 1 from reading 5's time on (readings before it are not judged), version 2 from
    # reading 30's.
    v1 = version(0, times[uuids[5]])
    v2 = version(10, times[uuids[30]], previous=v1)
    monkeypatch.setattr(report_module, "locked_limits", lambda source, part, char: [v1, v2])
    c = spc_report(LocalSource(store), ReportScope(lot="L-1")).characteristics[0]
    runs = replay_as_it_was(
        [(u, times[u], Decimal(v)) for u, v in zip(uuids, values, strict=True)], [v1, v2]
    )
    assert runs and c.limits == runs[-1].limits and c.locked
    assert c.violations == tuple(v for run in runs for v in run.violations)
    assert c.plotted == sum(len(run.points) for run in runs) == len(values) - 5
    assert c.points == tuple(p for run in runs for p in run.points)[-250:]


def test_the_command_line_never_loads_numpy_to_start_or_to_show_help() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from inspect_station.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "result = CliRunner().invoke(main, ['spc', 'report', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print('numpy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
