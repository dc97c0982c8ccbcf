"""The station's footprint: resident memory with four live gauges, and start time to the first
screen, each printed against a bare Textual app measured the same way in the same run.

    python bench/bench_footprint.py [--seconds 10] [--rounds 3]
    python bench/bench_footprint.py --profile /tmp/start.prof   # where one start's time goes

Each figure comes from a fresh process, as a user starts the station:

- start: from just before the process is started to the first screen having been drawn (the
  sign-in screen; for the baseline, a bare Textual app showing one line), stamped with
  ``call_after_refresh`` on the shared monotonic clock. The station child does what
  ``inspect-station --config station.toml`` does: the CLI and its ``station`` command module,
  the configuration file read through the CLI's ``Context``, then ``run_station``'s service and
  app (the configured gauges and shipper): the interpreter, the imports, the configuration, the
  specs, a new local record (``--existing-record``: one made before, as at a restart) and the
  gauge readers are all inside it. The app starts its shipper
  and imports the screens after sign-in once the first screen is drawn, just before the stamp:
  whatever of theirs runs before it is counted too;
- memory: the station app then has an inspector measuring a part on the measure screen while
  four simulated push gauges (pseudo-terminals, driven from this process) send 10 readings a
  second each for ``--seconds``: every reading evaluated, durably recorded and shown, the
  shipper shipping to a temporary central store. Reported: the resident set at the end
  (VmRSS) and its peak (VmHWM). The bare app idles for the same time.

Test-only packages: the station child hides the packages that only the ``test`` extra brings
(scipy) unless ``--with-test-extras`` is given, and the bench says which it hid. numpy is a
dependency of the station (the SPC report) and is never hidden: sqlite-utils would import it
whenever it is installed (about 0.3 s and 15 MiB), so the store imports sqlite-utils with numpy
hidden itself (``store/_sqlite_utils.py``). The bare Textual child imports none of them.

Bytecode: an installed station's modules are compiled (pip compiles them at install). With
``PYTHONDONTWRITEBYTECODE`` set, the children would compile this checkout's sources at every
start instead (about 0.3 s here), so the bench then gives them a bytecode folder of their own in
the temporary directory, filled by one unmeasured round, and says so.

Goals: start <= 1 s, RSS <= 80 MB. The ratio to the bare Textual app shows what the station adds
to what any Textual app costs on this machine, so a regression shows whatever the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import cProfile
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_only_packages() -> list[str]:
    """Top-level modules that only inspect-station's ``test`` extra installs (numpy, scipy...)."""
    import importlib.metadata as metadata
    import re

    runtime, test = set(), set()
    for requirement in metadata.requires("inspect-station") or []:
        name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("-", "_")
        (test if "extra ==" in requirement else runtime).add(name)
    return sorted(n for n in test - runtime if n in ("numpy", "scipy"))


class _Hidden:
    """A meta path finder that makes the named top-level packages unimportable."""

    def __init__(self, names: list[str]) -> None:
        self.names = set(names)

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        """Refuse a hidden package (as if not installed); defer everything else."""
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the bench)")


def _memory() -> dict[str, float]:
    """This process's VmRSS and VmHWM in MiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def _say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


# -- the children -----------------------------------------------------------------------------


async def bare_child(seconds: float) -> None:
    """A bare Textual app: one line of text."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("bare Textual app")

    app = Bare()
    shown = asyncio.Event()
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.call_after_refresh(shown.set)
        await shown.wait()
        _say(event="first", at=time.monotonic(), cpu=time.process_time(), **_memory())
        _say(event="ready")
        await pilot.pause(seconds)
        _say(event="memory", **_memory())


async def station_child(folder: Path, seconds: float) -> None:
    """The station app on the measure screen, four gauges pushing (driven by the parent)."""
    # What ``inspect-station --config station.toml`` does before the first screen: the CLI and
    # its ``station`` command module, the configuration file, then ``run_station``'s service
    # and app (its gauges and its shipper to the configured central store).
    from inspect_station.cli import Context, spec_skipped
    from inspect_station.cli.station import build_app, build_service

    service = build_service(Context(folder / "etc" / "station.toml").config, warn=spec_skipped)
    app = build_app(service)
    shown = asyncio.Event()
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.call_after_refresh(shown.set)
        await shown.wait()
        _say(event="first", at=time.monotonic(), cpu=time.process_time(), **_memory())
        _first_screen_profiled()
        # What the bench needs beyond the station's start, imported after it is measured.
        sys.path.insert(0, str(ROOT / "bench"))
        from bench_tui_latency import BENCH_ADMIN_PIN, BENCH_PIN

        from inspect_station.measuring import Capture, PartSession
        from inspect_station.tui.screens.measure import MeasureScreen
        from inspect_station.users import Role

        admin = service.users.bootstrap("bench-admin", "Bench Administrator", BENCH_ADMIN_PIN)
        service.users.add(
            "bench", "Bench Runner", Role.INSPECTOR, BENCH_PIN, by=admin, qualifications=["*"]
        )
        user = service.users.get("bench")
        app.begin_session(user)
        spec = service.library.get("BENCH-1")
        progress = service.start_lot(user, spec, "LOT-F", lot_size=10_000)
        session = PartSession(service, user, spec, progress, gauges=app.hub)
        app.push_screen(MeasureScreen(session))
        while not session.ready:
            await pilot.pause(0.05)
        _say(event="ready")
        end = time.monotonic() + seconds
        parts = 0
        full = len(spec.characteristic) - 4
        held = False
        while time.monotonic() < end:
            if not held and len(session.values) + len(session.pending) >= full - 4:
                _say(event="hold")  # the inspector takes the part off the gauges
                held = True
            if held and not session.pending:
                # Type the last few, close the part, load the next, give it to the gauges.
                for ch in spec.characteristic:
                    if ch.id not in session.values:
                        step = session.manual(ch.id, "10.0000", "footprint bench")
                        assert isinstance(step, Capture)
                        session.record(step)
                serial = session.serial
                await pilot.press("n")
                while session.serial == serial and time.monotonic() < end + 10:
                    await pilot.pause(0.05)
                parts += 1
                held = False
                _say(event="go")
            await pilot.pause(0.05)
        recorded = service.store.head()[0]
        _say(event="memory", parts=parts, records=recorded, **_memory())
        # Gauges off, then the readings still on their way recorded and shown, before the app
        # closes (a reading answered while the screen is torn down would find no widgets).
        _say(event="hold")
        quiet = 0
        while quiet < 5:
            before = service.store.head()[0]
            await pilot.pause(0.05)
            quiet = quiet + 1 if not session.pending and service.store.head()[0] == before else 0
    service.store.close()


_PROFILE: list[tuple[cProfile.Profile, Path]] = []
FIRST_SCREEN_MARK = "-- first screen drawn --"


def _first_screen_profiled() -> None:
    """Stop the start's profile (``--profile``) at the first screen and save it; mark the
    ``-X importtime`` report there."""
    if _PROFILE:
        print(FIRST_SCREEN_MARK, file=sys.stderr, flush=True)
    for profiler, path in _PROFILE:
        profiler.disable()
        profiler.dump_stats(path)
    _PROFILE.clear()


def child(kind: str, folder: Path, seconds: float, hide: list[str], profile: Path | None) -> None:
    """Run one child process's part (its start profiled into ``profile`` if given)."""
    if profile is not None:
        profiler = cProfile.Profile()
        _PROFILE.append((profiler, profile))
        profiler.enable()
    if hide:
        sys.meta_path.insert(0, _Hidden(hide))  # type: ignore[arg-type]
    if kind == "bare":
        asyncio.run(bare_child(seconds))
    else:
        asyncio.run(station_child(folder, seconds))


# -- the parent -------------------------------------------------------------------------------


def run_one(
    kind: str,
    seconds: float,
    hide: list[str],
    profile: Path | None = None,
    existing: bool = False,
) -> dict[str, float]:
    """Start a child; its start time and memory (the station's with four gauges pushing).

    With ``profile``, the child's start is profiled into that file and its ``-X importtime``
    report written next to it (``.imports``). With ``existing``, the station's record is made
    before it starts (a restart), not by the start itself (a first start)."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-footprint-{kind}-"))
    bank = None
    if kind == "station":
        sys.path.insert(0, str(ROOT / "bench"))
        from bench_tui_latency import config, write_spec

        from inspect_station.demo import station_toml
        from inspect_station.gauges.simulator import SimulatorBank

        (folder / "ports").mkdir()
        write_spec(folder)
        cfg = config(folder)
        (folder / "etc").mkdir()
        (folder / "etc" / "station.toml").write_text(station_toml(cfg), encoding="utf-8")
        if existing:
            from inspect_station.store import LocalStore

            LocalStore(cfg.db_path, cfg.station).close()
        bank = SimulatorBank(cfg).start()
        sims = [bank.for_asset(cfg, f"G{g}") for g in range(4)]
    stop, held = threading.Event(), threading.Event()
    python = [sys.executable] if profile is None else [sys.executable, "-X", "importtime"]
    profiling = [] if profile is None else ["--profile", str(profile)]
    imports = None if profile is None else profile.with_suffix(".imports").open("w")
    try:
        started = time.monotonic()
        proc = subprocess.Popen(
            [
                *python,
                __file__,
                *profiling,
                "--child",
                kind,
                "--dir",
                str(folder),
                "--seconds",
                str(seconds),
                "--hide",
                ",".join(hide),
            ],
            stdout=subprocess.PIPE,
            stderr=imports,
            text=True,
        )
        figures: dict[str, float] = {}
        pushers: list[threading.Thread] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            if message["event"] == "first":
                figures.update(
                    start=message["at"] - started, cpu=message["cpu"], first=message["VmRSS"]
                )
            elif message["event"] == "ready" and bank is not None:
                pushers = [
                    threading.Thread(target=_push, args=(sims[g], g, stop, held), daemon=True)
                    for g in range(4)
                ]
                for t in pushers:
                    t.start()
            elif message["event"] == "hold":
                held.set()
            elif message["event"] == "go":
                held.clear()
            elif message["event"] == "memory":
                figures.update(rss=message["VmRSS"], peak=message["VmHWM"])
                if "records" in message:
                    figures.update(parts=message["parts"], records=message["records"])
        stop.set()
        for t in pushers:
            t.join()
        if proc.wait() != 0 or "rss" not in figures:
            raise SystemExit(f"the {kind} child failed (exit {proc.returncode})")
        return figures
    finally:
        stop.set()
        if imports is not None:
            imports.close()
        if bank is not None:
            bank.close()
        shutil.rmtree(folder, ignore_errors=True)


def _push(sim, g: int, stop: threading.Event, held: threading.Event) -> None:
    """Gauge ``g``'s simulator sends a reading 10 times a second until stopped (none while the
    part is being changed)."""
    n = 0
    next_at = time.monotonic() + g * 0.025
    while not stop.is_set():
        stop.wait(max(0.0, next_at - time.monotonic()))
        next_at += 0.1
        if held.is_set():
            continue
        n += 1
        sim.press(f"{10 + (n % 5000) / 10000:.4f}")


def import_costs(report: Path) -> tuple[float, list[tuple[str, float]]]:
    """From a ``-X importtime`` report, up to the first screen: the total import time (s) and
    each package's own time (the time of its modules less their imports; ``inspect_station``,
    ``textual`` and ``pydantic`` split by sub-package), largest first."""
    own: dict[str, float] = {}
    for line in report.read_text().splitlines():
        if line == FIRST_SCREEN_MARK:
            break
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.removeprefix("import time:").split("|")
        if not fields[0].strip().isdigit():
            continue  # the header
        name = fields[2].strip()
        parts = name.split(".")
        split = parts[0] in ("inspect_station", "textual", "pydantic")
        key = ".".join(parts[:2]) if split else parts[0]
        own[key] = own.get(key, 0.0) + int(fields[0]) / 1e6
    return sum(own.values()), sorted(own.items(), key=lambda item: -item[1])


def print_profile(path: Path, lines: int = 30) -> None:
    """Where one profiled station start spent its time: imports by package, then functions."""
    import io
    import pstats

    report = path.with_suffix(".imports")
    total, costs = import_costs(report)
    print(
        f"imports before the first screen: {total:.2f} s in all (-X importtime, own time by "
        f"package; {report})"
    )
    for name, seconds in costs[:lines]:
        print(f"  {seconds * 1000:7.1f} ms  {name}")
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)
    print(f"start to first screen under cProfile ({path}):")
    print(out.getvalue())


def main() -> None:
    """Parse arguments; run the children and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="gauges push this long")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per app")
    parser.add_argument("--child", choices=["bare", "station"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--with-test-extras",
        action="store_true",
        help="let the station load the test-only packages it finds (numpy via sqlite-utils)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="instead of the figures: profile one station start into FILE (cProfile) and "
        "FILE.imports (-X importtime), and print where the start spends its time",
    )
    parser.add_argument(
        "--existing-record",
        action="store_true",
        help="time a restart: the station's record exists before it starts (by default each "
        "start makes a new record, as a station's first start does)",
    )
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--hide", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        hidden = [h for h in args.hide.split(",") if h]
        child(args.child, args.dir, args.seconds, hidden, args.profile)
        return
    hide = [] if args.with_test_extras else test_only_packages()
    compiled = "installed"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # An installed station has its modules compiled (pip does it at install); with bytecode
        # writing off, every child would compile this checkout's sources again and start would
        # count a compiler no user runs. The children keep bytecode in a folder of their own
        # instead (none in the checkout), filled by one unmeasured round first.
        cache = tempfile.mkdtemp(prefix="bench-footprint-pycache-")
        atexit.register(shutil.rmtree, cache, True)
        os.environ.pop("PYTHONDONTWRITEBYTECODE")
        os.environ["PYTHONPYCACHEPREFIX"] = cache
        for kind in ("bare", "station"):
            run_one(kind, 0.5, hide)
        compiled = "compiled by an unmeasured first round (PYTHONDONTWRITEBYTECODE was set)"
    if args.profile is not None:
        run_one("station", 0.5, hide, args.profile.resolve(), args.existing_record)
        print_profile(args.profile.resolve())
        return
    load = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "station": []}
    for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
        for kind in runs:
            runs[kind].append(run_one(kind, args.seconds, hide, None, args.existing_record))

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    print(
        f"footprint: {args.rounds} fresh processes each, medians; "
        f"gauges pushed {args.seconds:.0f} s; test-only packages hidden: "
        f"{', '.join(hide) or 'none'}; bytecode: {compiled}; record: "
        f"{'existing (a restart)' if args.existing_record else 'new (a first start)'}; "
        f"load average {load:.1f} "
        f"at the start, {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)"
    )
    start_s, start_b = median("station", "start"), median("bare", "start")
    cpu_s, cpu_b = median("station", "cpu"), median("bare", "cpu")
    print(
        f"start to first screen: station {start_s:.2f} s, bare Textual {start_b:.2f} s "
        f"(ratio {start_s / start_b:.2f}; goal station <= 1 s: "
        f"{'met' if start_s <= 1.0 else 'NOT met'})"
    )
    print(
        f"  CPU time to it     : station {cpu_s:.2f} s, bare Textual {cpu_b:.2f} s "
        f"(ratio {cpu_s / cpu_b:.2f}; the wall time less what other processes took)"
    )
    rss_s, rss_b = median("station", "rss"), median("bare", "rss")
    peak_s = median("station", "peak")
    print(
        f"resident memory      : station {rss_s:.1f} MiB with four live gauges (peak "
        f"{peak_s:.1f}), bare Textual {rss_b:.1f} MiB (ratio {rss_s / rss_b:.2f}; goal "
        f"station <= 80 MB: {'met' if rss_s * 1.048576 <= 80 else 'NOT met'})"
    )
    first_s, first_b = median("station", "first"), median("bare", "first")
    print(f"  RSS at first screen: station {first_s:.1f} MiB, bare Textual {first_b:.1f} MiB")
    done = [(int(r["records"]), int(r["parts"])) for r in runs["station"]]
    print(f"station runs (journal records, parts closed): {done}")


if __name__ == "__main__":
    main()
