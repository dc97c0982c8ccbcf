"""Lot summary: sample progress, nonconforming count, Ac/Re decision and the lot's rejects."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from inspect_station.station import LotProgress
from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.base import StationScreen
from inspect_station.tui.widgets import GaugeStatusBar, Plain, PlainTable, fit


class LotSummaryScreen(StationScreen):
    """Where the lot stands."""

    BINDINGS = [Binding("escape,l", "back", "Back")]

    def __init__(self, lot: str) -> None:
        super().__init__()
        self.lot = lot

    def compose(self) -> ComposeResult:
        """Title, figures, rejects table."""
        yield Plain(f"Lot {self.lot} · summary", classes="title")
        yield Plain("Loading…", id="lot-summary")
        yield PlainTable(id="rejects", cursor_type="row")
        yield GaugeStatusBar(id="gauges")
        yield KeyBar()

    def on_mount(self) -> None:
        """Load the figures on the writer thread."""
        table = self.query_one(DataTable)
        table.add_columns("Serial", "Failed", "Defect", "Note", "Inspector", "Time (UTC)")
        lot = self.lot
        self.submit(lambda: self.app.service.lot_progress(lot), self._show)
        self.app.refresh_status()

    def _show(self, p: LotProgress) -> None:
        lines = [
            f"Part {p.lot.part_number} rev {p.lot.revision} · work order {p.lot.work_order or '—'}"
            f" · lot size {p.lot.lot_size or '—'}",
        ]
        if p.plan is not None:
            plan = p.plan
            lines.append(
                f"Plan: ISO 2859-1 level {plan.level.value}, AQL {plan.aql}, "
                f"code {plan.code_letter} → sample {plan.sample_size}, "
                f"Ac {plan.accept} / Re {plan.reject}"
                + (" (100 %)" if plan.hundred_percent else "")
            )
            lines.append(
                f"Sampled {p.inspected} · to go {p.to_go} · nonconforming {p.nonconforming}"
            )
            decision = p.decision.value if p.decision else "—"
            lines.append(f"Lot decision: {decision}")
        else:
            lines.append(f"Inspected {p.inspected} · nonconforming {p.nonconforming} (no plan)")
        if p.open_serials:
            lines.append(f"Open parts: {', '.join(p.open_serials)}")
        self.query_one("#lot-summary", Static).update("\n".join(lines))
        table = self.query_one(DataTable)
        for r in p.rejects:
            table.add_row(
                r["serial"],
                ", ".join(r["failed"]),
                r["defect_code"] or "—",
                fit(r["note"] or "", 30),
                r["inspector"],
                r["closed_at"][:19],
            )

    def action_back(self) -> None:
        """Back to measuring."""
        self.app.pop_screen()
