"""An office terminal reviews a record copied from a bench (review --db): read, never changed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from test_review_flows import message, reject_a_part, sign
from textual.widgets import DataTable
from uikit import settle, sign_in, wait_until

from inspect_station.cli.station import office_app_options, review_source
from inspect_station.tui.screens.review import ReviewScreen
from inspect_station.wiring import build_app


def digest(path: Path) -> str:
    """SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_review_of_a_copy_signs_into_the_terminal_s_own_record(station, tmp_path: Path):
    service = station.service
    reject_a_part(service)
    service.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    bench = tmp_path / "copies"
    bench.mkdir()
    copy = bench / "copy.db"  # the record as copied from the bench
    shutil.copyfile(service.store.path, copy)
    before, files = digest(copy), sorted(p.name for p in bench.iterdir())
    with review_source(service.store, None, copy) as source:
        app = build_app(**office_app_options(service, source, None))
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, "super", "271828")
            assert isinstance(app.screen, ReviewScreen)
            table = app.screen.query_one("#rejects", DataTable)
            await wait_until(pilot, lambda: table.row_count == 1)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("s")
            await sign(pilot, 4, "cracked", "super", "271828")
            await wait_until(pilot, lambda: "Scrap signed: complete" in message(app))
    assert digest(copy) == before and sorted(p.name for p in bench.iterdir()) == files
    (row,) = service.store.query("SELECT station, disposition FROM dispositions")
    assert row == {"station": service.store.station, "disposition": "scrap"}
