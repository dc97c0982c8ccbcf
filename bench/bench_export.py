"""Lot export to CSV, AQDEF .dfq and QIF 3.0 vs a raw sqlite3 query + csv.writer of the rows.

The lot: BRK-1042 revision C, 100,000 measurements (25,000 parts of 4 characteristics, gauge
and manual sources, about 2 % rejects with signed dispositions, some corrections), recorded in
large transactions through ``LocalStore.transaction()`` with the same record bodies
``Recorder.measure`` writes.

Export: what ``export lot`` does, timed whole: a fresh read-only open of the record (as the CLI
opens it), ``export_lot`` to CSV, to .dfq and to QIF 3.0 with the default options -- the chain
and projection verification included -- reading the lot, building every row, writing the file
and its SHA-256 manifest. The first export finds no verified checkpoint and verifies the whole
chain (printed on its own line); the timed rounds verify from the checkpoint it recorded, as
every later export does. An export with ``--full-verify``, the verification alone and the
export without it are printed too, so that what each part costs shows.
Baseline: ``sqlite3`` on the same file, every column of the lot's measurement rows written with
``csv.writer``, by the faster of two plans: ``WHERE lot = ?`` as SQLite plans it, and the
rowid-range scan the export itself uses. Everything runs alternately, ``--rounds`` times, in the
same process; the best time of each is compared.

    python bench/bench_export.py [--measurements 100000] [--rounds 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import sqlite3
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from inspect_station.config import GaugeAsset
from inspect_station.export.lot import ExportOptions, export_lot, load_lot
from inspect_station.locations import shipped_specs_dir
from inspect_station.recording import ManualSource, Recorder, plan_record, raw_text
from inspect_station.records import LocalSource
from inspect_station.review.service import Review
from inspect_station.sampling import sampling_plan
from inspect_station.spec import PartSpec, SpecLibrary
from inspect_station.store import LocalStore, Transaction
from inspect_station.users import UserDirectory

CALIPER = GaugeAsset(
    asset="CAL-0042",
    profile="mitutoyo-ascii",
    port="loop://",
    unit="mm",
    serial_number="A1234567",
    certificate="CERT-2026-0042",
    calibrated_on=dt.date(2026, 3, 1),
    calibration_due=dt.date(2099, 3, 1),
)


def _values(part: int) -> dict[str, str]:
    """Deterministic readings; about 2 % of the parts fail characteristic 1."""
    length = f"{120 + (part % 17 - 8) / 100:.2f}" if part % 50 else "120.14"
    return {
        "1": length,
        "2": f"12.{4 + part % 9:03d}",
        "3": f"0.0{part % 4}{part % 7}",
        "4": "pass",
    }


def _measurement_body(
    recorder: Recorder,
    spec: PartSpec,
    inspection: str,
    lot: str,
    serial: str,
    char: str,
    value: str,
    *,
    supersedes: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The body ``Recorder.measure`` writes, for a gauge reading (1, 2) or a manual one."""
    gauge = char in ("1", "2")
    source = ManualSource("bench") if not gauge else None
    ch, evaluation = recorder.evaluate(
        spec, char, value, None, source or ManualSource("bench (gauge simulated)")
    )
    raw = f"01A+{value}\r".encode() if gauge else None
    return {
        **spec.identity(),
        "inspection": inspection,
        "lot": lot,
        "serial": serial,
        "characteristic": ch.id,
        "characteristic_name": ch.name,
        "kind": ch.kind.value,
        "class": ch.class_.value,
        **evaluation.record(),
        "inspector": "bench",
        "source": "gauge" if gauge else "manual",
        "manual_reason": None if gauge else "bench",
        "gauge": CALIPER.trace() if gauge else None,
        "raw": raw_text(raw),
        "supersedes": supersedes,
        "reason": reason,
    }


def build_lot(store: LocalStore, spec: PartSpec, lot: str, measurements: int) -> int:
    """Record a lot of ``measurements`` measurements in large transactions; returns rejects."""
    recorder = Recorder(store)
    plan = plan_record(sampling_plan(150_000, spec.sampling.level, spec.sampling.aql))
    rejects = 0
    parts = measurements // len(spec.characteristic)
    per_tx = 2_500

    def one_part(tx: Transaction, part: int) -> None:
        nonlocal rejects
        serial = f"S{part:06d}"
        opened = tx.append(
            "inspection_opened",
            {**spec.identity(), "lot": lot, "serial": serial, "inspector": "bench"},
        )
        values = _values(part)
        failed = []
        for ch in spec.characteristic:
            body = _measurement_body(
                recorder, spec, opened["uuid"], lot, serial, ch.id, values[ch.id]
            )
            tx.append("measurement", body)
            if body["verdict"] != "pass":
                failed.append(ch.id)
        rejects += bool(failed)
        tx.append(
            "inspection_closed",
            {
                **spec.identity(),
                "inspection": opened["uuid"],
                "lot": lot,
                "serial": serial,
                "result": "reject" if failed else "accept",
                "failed": failed,
                "defect_code": "D01" if failed else None,
                "note": None,
                "inspector": "bench",
                "supersedes": None,
            },
        )

    with store.transaction() as tx:
        recorder._ensure_spec(tx, spec)
        tx.append(
            "lot_opened",
            {
                **spec.identity(),
                "lot": lot,
                "work_order": "WO-BENCH",
                "lot_size": 150_000,
                "sampling": plan,
                "inspector": "bench",
            },
        )
    for start in range(0, parts, per_tx):
        with store.transaction() as tx:
            for part in range(start, min(parts, start + per_tx)):
                one_part(tx, part)
    return rejects


def sign_some(store: LocalStore, count: int) -> None:
    """Dispose of the first ``count`` rejects (scrap), signed by a supervisor."""
    users = UserDirectory(store)
    admin = users.bootstrap("bench-admin", "Bench Administrator", "864209")
    users.add("sam", "Sam Ortiz", "supervisor", "975310", by=admin)
    review = Review(LocalSource(store), store, users)
    for summary in review.queue()[:count]:
        review.sign(summary.reject, "scrap", "bench", user_id="sam", pin="975310")


FORMATS = ("csv", "dfq", "qif")
"""The formats timed against the baseline."""

RAW_QUERIES = {
    "planner": ("SELECT * FROM measurements WHERE lot = ?", False),
    "rowid range": (
        "SELECT * FROM measurements WHERE +lot = ? AND seq BETWEEN ? AND ? ORDER BY seq",
        True,
    ),
}


def raw_export(db: Path, lot: str, out: Path, plan: str) -> int:
    """The baseline: one sqlite3 query and csv.writer; returns rows written."""
    sql, ranged = RAW_QUERIES[plan]
    conn = sqlite3.connect(db)
    try:
        params: tuple[Any, ...] = (lot,)
        if ranged:
            params += conn.execute(
                "SELECT MIN(seq), MAX(seq) FROM measurements WHERE lot = ?", (lot,)
            ).fetchone()
        cursor = conn.execute(sql, params)
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([d[0] for d in cursor.description])
            n = 0
            for row in cursor:
                writer.writerow(row)
                n += 1
    finally:
        conn.close()
    return n


def main() -> None:
    """Build the lot, run both exports and the baseline, print times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measurements", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    args = parser.parse_args()

    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    workdir = Path(tempfile.mkdtemp(prefix="bench-export-", dir=args.dir))
    db = workdir / "station.db"
    lot = "LOT-BENCH"
    with LocalStore(db, "BENCH") as store:
        start = time.perf_counter()
        rejects = build_lot(store, spec, lot, args.measurements)
        sign_some(store, 20)
        built = time.perf_counter() - start
        print(
            f"lot {lot}: {args.measurements} measurements, {rejects} rejects, "
            f"built in {built:.1f} s ({workdir})"
        )
        best = dict.fromkeys([*RAW_QUERIES, *FORMATS, "csv unverified", "csv full"], float("inf"))
        # The checkpoints of verified chains go to this run's folder, not the user's.
        os.environ["INSPECT_STATION_DATA"] = str(workdir / "data")
        # The first export finds no checkpoint: it verifies the whole chain and records one.
        start = time.perf_counter()
        with LocalStore.open_readonly(db) as fresh, LocalSource(fresh) as source:
            first = export_lot(source, lot, "csv", workdir / "lot.csv", ExportOptions(force=True))
        first_time = time.perf_counter() - start
        assert first.data.verified and first.data.verification[0].verified_from == 0
        for _ in range(args.rounds):
            for plan in RAW_QUERIES:
                start = time.perf_counter()
                n = raw_export(db, lot, workdir / "raw.csv", plan)
                best[plan] = min(best[plan], time.perf_counter() - start)
                assert n == args.measurements, n
            for fmt in FORMATS:
                start = time.perf_counter()
                with LocalStore.open_readonly(db) as fresh, LocalSource(fresh) as source:
                    result = export_lot(
                        source, lot, fmt, workdir / f"lot.{fmt}", ExportOptions(force=True)
                    )
                best[fmt] = min(best[fmt], time.perf_counter() - start)
                assert result.data.verified, result.data.verification
            start = time.perf_counter()
            with LocalStore.open_readonly(db) as fresh, LocalSource(fresh) as source:
                export_lot(
                    source, lot, "csv", workdir / "lot.csv", ExportOptions(force=True, verify=False)
                )
            best["csv unverified"] = min(best["csv unverified"], time.perf_counter() - start)
            start = time.perf_counter()
            with (
                LocalStore.open_readonly(db) as fresh,
                LocalSource(fresh, full_verify=True) as source,
            ):
                export_lot(source, lot, "csv", workdir / "lot.csv", ExportOptions(force=True))
            best["csv full"] = min(best["csv full"], time.perf_counter() - start)
        # The QIF document is streamed: what the export holds beyond the lot's facts (parts,
        # results, dispositions, which every format loads) stays far below the document's size.
        tracemalloc.start()
        with LocalSource(store) as source:
            load_lot(source, lot, verify=False)
        load_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        with LocalSource(store) as source:
            export_lot(
                source, lot, "qif", workdir / "lot.qif", ExportOptions(force=True, verify=False)
            )
        qif_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        start = time.perf_counter()
        report = store.verify()
        verify_time = time.perf_counter() - start
        records = store.head()[0]
    raw = min(best[plan] for plan in RAW_QUERIES)
    for plan in RAW_QUERIES:
        print(f"raw sqlite3 + csv.writer ({plan:<11}): {best[plan]:.3f} s")
    for fmt in FORMATS:
        print(
            f"export {fmt:<3}                           : {best[fmt]:.3f} s  "
            f"= {raw / best[fmt]:.2f} of raw speed (goal >= 0.5; verification from the "
            "checkpoint included)"
        )
    print(
        f"export csv, first (full verify)      : {first_time:.3f} s  "
        f"= {raw / first_time:.2f} of raw speed (no checkpoint yet: every record re-hashed)"
    )
    print(
        f"export csv --full-verify             : {best['csv full']:.3f} s  "
        f"= {raw / best['csv full']:.2f} of raw speed"
    )
    print(
        f"export csv without verification      : {best['csv unverified']:.3f} s  "
        f"= {raw / best['csv unverified']:.2f} of raw speed (what the CLI cannot do)"
    )
    print(
        f"chain + projection verify            : {verify_time:.3f} s, "
        f"{records / verify_time:,.0f} records/s ({report.summary()})"
    )
    qif_size = (workdir / "lot.qif").stat().st_size
    print(
        f"qif export peak traced memory         : {qif_peak / 1e6:.1f} MB (loading the lot "
        f"alone: {load_peak / 1e6:.1f} MB) for a {qif_size / 1e6:.1f} MB document"
    )
    size = io.StringIO()
    size.write(f"{(workdir / 'lot.csv').stat().st_size / 1e6:.1f} MB csv, ")
    size.write(f"{(workdir / 'lot.dfq').stat().st_size / 1e6:.1f} MB dfq, ")
    size.write(f"{(workdir / 'lot.qif').stat().st_size / 1e6:.1f} MB qif")
    print(size.getvalue())


if __name__ == "__main__":
    main()
