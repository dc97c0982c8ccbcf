"""Frame arrival to verdict on the measure screen, with four push gauges at 10 readings/s each.

Four simulated Mitutoyo push gauges (pseudo-terminals) send 10 frames a second each while the
station app (headless Textual, the real measure screen, the real writer thread and SQLite
commit, the real shipper on its thread) captures every reading. For every frame we take:

  reader latency  = frame written to the pty  -> reading event delivered by the gauge reader
  station latency = frame written to the pty  -> the screen has refreshed with its verdict
                    (evaluation, durable commit, widgets updated, compositor refresh)

"Shown" is stamped by ``call_after_refresh`` from the screen's ``VerdictShown`` message: the
callback runs once the screen has been re-rendered with the verdict on it. Frames written whose
verdict never reached the screen are counted and printed ("unshown"); a frame the station was
never offered (the part being closed) is not written at all.

Baseline, same run: a durable SQLite insert+commit of one row (the floor of "recorded") timed on
the same disk between the pushes; the station's p99 is printed against reader p99 + commit p99.

The station ships to a central store in the run's temporary folder, never the user's: a second
run's fresh chain would otherwise be refused as a fork and retried throughout.

The station's writer groups the readings waiting together into one commit; the sizes of the
groups it committed are printed, with the load average of the machine beside the figures.
The live chart's own cost is printed too: the UI thread's CPU time in each chart redraw
(taking the characteristic's chart data and laying out its lines) and in each of the chart's
line renderings that was not answered from its cache, per redraw and per reading.
``--profile`` runs cProfile on the UI thread and on the writer thread and prints where each
spends its time per reading.

    python bench/bench_tui_latency.py [--seconds 30] [--profile] [--columns 132]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import os
import pstats
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

from textual.message import Message

from inspect_station.config import GaugeAsset, StationConfig
from inspect_station.gauges.events import ReadingEvent
from inspect_station.gauges.hub import GaugeHub, GaugeState
from inspect_station.gauges.simulator import SimulatorBank
from inspect_station.measuring import Capture, PartSession
from inspect_station.sync import Shipper
from inspect_station.tui.screens.measure import CHART_BESIDE_FROM, MeasureScreen
from inspect_station.tui.spc_widgets import ControlChart
from inspect_station.users import Role
from inspect_station.wiring import build_app, build_service

GAUGES = 4
PER_PART = 25  # characteristics per gauge type in one part
BENCH_ADMIN_PIN, BENCH_PIN = "864209", "975310"  # the runner is signed in directly


def write_spec(folder: Path) -> None:
    """A part with PER_PART characteristics for each of the four gauge types."""
    lines = [
        "format = 1",
        'part_number = "BENCH-1"',
        'revision = "A"',
        'status = "released"',
        'unit = "mm"',
        "[sampling]",
        'level = "II"',
        "aql = 1.0",
    ]
    for g in range(GAUGES):
        for i in range(PER_PART):
            lines += [
                "[[characteristic]]",
                f'id = "{g}-{i}"',
                f'name = "Feature {g}-{i}"',
                "nominal = 10.0000",
                "tolerance = [-5, 5]",
                "resolution = 0.0001",
                f'gauge = "type-{g}"',
            ]
    (folder / "BENCH-1-A.toml").write_text("\n".join(lines) + "\n")


def config(folder: Path) -> StationConfig:
    """Four push gauges on simulated pseudo-terminals."""
    today = dt.date.today()
    return StationConfig(
        station="BENCH",
        db=folder / "bench.db",
        specs=[folder],
        central=f"sqlite:///{folder / 'central.db'}",
        gauge=[
            GaugeAsset(
                asset=f"G{g}",
                profile="mitutoyo-ascii",
                port=str(folder / "ports" / f"G{g}"),
                unit="mm",
                gauge_type=f"type-{g}",
                serial_number=f"S{g}",
                certificate="C",
                calibrated_on=today - dt.timedelta(days=10),
                calibration_due=today + dt.timedelta(days=300),
            )
            for g in range(GAUGES)
        ],
    )


def time_chart() -> dict[str, list[float]]:
    """Time, on the thread that runs them (CPU ms), the measure screen's chart redraws and the
    chart's line renderings that were not answered from its cache."""
    costs: dict[str, list[float]] = {"redraw": [], "lines": []}
    redraw, render_lines = MeasureScreen._draw_chart, ControlChart.render_lines

    def timed_redraw(screen: MeasureScreen) -> None:
        start = time.thread_time()
        redraw(screen)
        costs["redraw"].append((time.thread_time() - start) * 1000)

    def timed_lines(chart: ControlChart, crop):  # type: ignore[no-untyped-def]
        fresh = chart._quiet_key is None  # marked dirty: the lines are made, not handed back
        start = time.thread_time()
        lines = render_lines(chart, crop)
        if fresh:
            costs["lines"].append((time.thread_time() - start) * 1000)
        return lines

    MeasureScreen._draw_chart = timed_redraw  # type: ignore[method-assign]
    ControlChart.render_lines = timed_lines  # type: ignore[method-assign]
    return costs


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def profile_text(profile: cProfile.Profile, title: str, lines: int = 25) -> str:
    """The top of a profile by cumulative time."""
    out = io.StringIO()
    path = Path(tempfile.gettempdir()) / f"bench-tui-{title.split()[0].lower()}.prof"
    profile.dump_stats(path)
    out.write(f"--- {title} (saved to {path}) ---\n")
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


async def run(seconds: float, profile: bool = False, columns: int = 100) -> None:
    """Run the station with four gauges pushing and print the latency figures."""
    folder = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    (folder / "ports").mkdir()
    write_spec(folder)
    cfg = config(folder)
    service = build_service(cfg)
    admin = service.users.bootstrap("bench-admin", "Bench Administrator", BENCH_ADMIN_PIN)
    service.users.add(
        "bench", "Bench Runner", Role.INSPECTOR, BENCH_PIN, by=admin, qualifications=["*"]
    )
    written: dict[str, float] = {}
    delivered: dict[str, float] = {}
    shown: dict[str, float] = {}
    handled: dict[str, float] = {}

    def hub_factory(callback):
        def timed(event):
            if isinstance(event, ReadingEvent):
                delivered[event.value] = time.perf_counter()
            callback(event)

        return GaugeHub(cfg, on_event=timed)

    central = f"sqlite:///{folder / 'central.db'}"

    def shipper_factory() -> Shipper:
        return Shipper(service.store, central)

    app = None
    chart_costs = time_chart()

    def verdict_shown(message: Message) -> None:
        if isinstance(message, MeasureScreen.VerdictShown) and app is not None:
            event = message.recorded.capture.event
            if event is not None:
                value = event.value
                handled.setdefault(value, time.perf_counter())

                def stamp() -> None:
                    shown.setdefault(value, time.perf_counter())

                app.screen.call_after_refresh(stamp)

    with SimulatorBank(cfg) as bank:
        app = build_app(service, hub_factory=hub_factory, shipper_factory=shipper_factory)
        async with app.run_test(size=(columns, 40), message_hook=verdict_shown) as pilot:
            while not all(s.state is GaugeState.CONNECTED for s in app.hub.states()):
                await pilot.pause(0.05)
            user = service.users.get("bench")
            app.begin_session(user)
            spec = service.library.get("BENCH-1")
            progress = service.start_lot(user, spec, "LOT-B", lot_size=10_000)
            session = PartSession(service, user, spec, progress, gauges=app.hub)
            app.push_screen(MeasureScreen(session))
            await pilot.pause(0.5)
            writer_cpu = app._writer.submit(time.thread_time).result()
            ui_cpu = time.thread_time()
            ui_profile, writer_profile = cProfile.Profile(), cProfile.Profile()
            if profile:
                app._writer.submit(writer_profile.enable).result()
                ui_profile.enable()
            stop = threading.Event()
            counter = iter(range(1, 10**6))
            lock = threading.Lock()

            def push(g: int) -> None:
                sim = bank.for_asset(cfg, f"G{g}")
                next_at = time.perf_counter() + g * 0.025
                while not stop.is_set():
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at += 0.1
                    if (
                        not session.ready
                        or len(session.values) + len(session.pending) >= GAUGES * PER_PART - GAUGES
                    ):
                        continue  # the part is being closed: the inspector waits
                    with lock:
                        value = f"{10 + next(counter) / 10000:.4f}"
                    written[value] = time.perf_counter()
                    sim.press(value)

            commits: list[float] = []

            def raw_commits() -> None:
                """The floor of "recorded": one durable row per commit, 10 a second."""
                raw = sqlite3.connect(folder / "raw.db", isolation_level=None)
                raw.execute("PRAGMA journal_mode=WAL")
                raw.execute("PRAGMA synchronous=FULL")
                raw.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, v TEXT)")
                while not stop.wait(0.1):
                    t0 = time.perf_counter()
                    raw.execute("BEGIN IMMEDIATE")
                    raw.execute("INSERT INTO t (v) VALUES (?)", ("10.0000",))
                    raw.execute("COMMIT")
                    commits.append((time.perf_counter() - t0) * 1000)
                raw.close()

            threads = [threading.Thread(target=push, args=(g,), daemon=True) for g in range(GAUGES)]
            threads.append(threading.Thread(target=raw_commits, daemon=True))
            for t in threads:
                t.start()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                if (
                    session.ready
                    and not session.pending
                    and len(session.values) >= GAUGES * PER_PART - GAUGES
                ):
                    # Type the last few so the part can be closed, then the next part.
                    for ch in spec.characteristic:
                        if ch.id not in session.values:
                            step = session.manual(ch.id, "10.0000", "bench")
                            assert isinstance(step, Capture)
                            session.record(step)
                    await pilot.press("n")
                # Not pilot.pause: it posts a callback to every widget and forces a screen
                # update each time, work on the UI thread that a station at the bench never does.
                await asyncio.sleep(0.05)
            stop.set()
            for t in threads:
                t.join()
            # The last frames' verdicts: waited for (a loaded machine is slow), up to 10 s;
            # a frame still unshown then never will be.
            settle_until = time.perf_counter() + 10
            while time.perf_counter() < settle_until and not written.keys() <= shown.keys():
                await asyncio.sleep(0.05)
            if profile:
                ui_profile.disable()
                app._writer.submit(writer_profile.disable).result()
            groups = list(getattr(app._writer, "groups", []))
            ui_cpu = time.thread_time() - ui_cpu
            writer_cpu = app._writer.submit(time.thread_time).result() - writer_cpu
    service.store.close()
    common = [v for v in written if v in delivered and v in shown]
    unshown = len(written) - len(common)
    for value in sorted(set(written) - set(common))[:5]:
        where = "shown" if value in shown else "handled" if value in handled else "read"
        if value not in delivered:
            where = "written"
        print(f"unshown frame {value}: got as far as {where}")
    reader = [(delivered[v] - written[v]) * 1000 for v in common]
    station = [(shown[v] - written[v]) * 1000 for v in common]
    print(
        f"frames pushed {len(written)}, verdicts shown {len(common)}, unshown {unshown} "
        f"({GAUGES} gauges x 10/s for {seconds:.0f} s; central {central})"
    )
    print(
        f"reader latency  (write -> reading event)  : p50 {percentile(reader, 50):6.2f} ms  "
        f"p99 {percentile(reader, 99):6.2f} ms"
    )
    print(
        f"raw durable SQLite commit (baseline)     : p50 {percentile(commits, 50):6.2f} ms  "
        f"p99 {percentile(commits, 99):6.2f} ms  ({len(commits)} commits)"
    )
    print(
        f"station latency (write -> screen refreshed): p50 {percentile(station, 50):6.2f} ms  "
        f"p99 {percentile(station, 99):6.2f} ms  (goal p99 <= 20 ms)"
    )
    recorded = [(handled[v] - delivered[v]) * 1000 for v in common]
    refresh = [(shown[v] - handled[v]) * 1000 for v in common]
    print(
        f"  of which reading -> verdict set (evaluate, commit, widgets): "
        f"p50 {percentile(recorded, 50):6.2f} ms  p99 {percentile(recorded, 99):6.2f} ms"
    )
    print(
        f"  of which verdict set -> screen refreshed                  : "
        f"p50 {percentile(refresh, 50):6.2f} ms  p99 {percentile(refresh, 99):6.2f} ms"
    )
    floor = percentile(reader, 99) + percentile(commits, 99)
    print(
        f"station p99 / (reader p99 + commit p99): {percentile(station, 99) / floor:.2f}  "
        f"(station p99 - that floor: {percentile(station, 99) - floor:+.2f} ms)"
    )
    extra = statistics.mean(s - r for s, r in zip(station, reader, strict=True))
    print(f"mean station - reader: {extra:.2f} ms")
    print(
        f"CPU per reading shown: UI thread {ui_cpu / len(common) * 1000:.2f} ms, writer thread "
        f"{writer_cpu / len(common) * 1000:.2f} ms (what the station spends, whatever the load)"
    )
    if groups:
        print(
            f"writer groups (last {len(groups)}): mean {statistics.mean(groups):.2f} readings "
            f"per commit, largest {max(groups)}"
        )
    redraws, renders = chart_costs["redraw"], chart_costs["lines"]
    if redraws:
        print(
            f"chart (UI CPU): {len(redraws)} redraws, mean {statistics.mean(redraws):.2f} ms, "
            f"max {max(redraws):.2f} ms; {len(renders)} line renderings, mean "
            f"{statistics.mean(renders or [0]):.2f} ms, max {max(renders or [0]):.2f} ms; "
            f"{(sum(redraws) + sum(renders)) / len(common):.2f} ms per reading shown"
        )
    print(
        f"terminal {columns} columns: the live SPC chart is "
        + ("shown beside the verdict" if columns >= CHART_BESIDE_FROM else "not shown")
    )
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if profile:
        print(profile_text(ui_profile, "UI thread"))
        print(profile_text(writer_profile, "writer thread"))


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the gauges push")
    parser.add_argument("--profile", action="store_true", help="profile UI and writer threads")
    parser.add_argument(
        "--columns",
        type=int,
        default=100,
        help=f"terminal width; from {CHART_BESIDE_FROM} the live SPC chart is beside the verdict",
    )
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.profile, args.columns))


if __name__ == "__main__":
    main()
