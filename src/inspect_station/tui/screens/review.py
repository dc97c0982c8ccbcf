# Over 500 lines: the review's list and detail screens and their two signing dialogs.
"""Supervisors: the rejects awaiting disposition, a reject's detail, signing a disposition."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from inspect_station.errors import InspectStationError
from inspect_station.measuring.spc_service import review_line
from inspect_station.review.model import (
    MEANING_APPROVAL,
    MEANING_RESOLUTION,
    MEANING_SECOND_APPROVAL,
    RejectFilter,
    Status,
)
from inspect_station.review.service import Review
from inspect_station.review.views import DispositionInfo, RejectDetail, RejectSummary, Resolution
from inspect_station.tui.keybar import KeyBar
from inspect_station.tui.screens.base import StationScreen
from inspect_station.tui.screens.dialogs import Dialog
from inspect_station.tui.widgets import GaugeStatusBar, Plain, PlainTable, fit, plain
from inspect_station.vocabulary import Disposition


def still_needed(info: DispositionInfo) -> str:
    """Who signed a disposition that is not complete, and what it still needs, in words."""
    signed = ", ".join(f"{s.name} ({s.user_id})" for s in info.signatures)
    missing = info.signers_required - len(info.signatures)
    who = "supervisor" if missing == 1 else "supervisors"
    others = ", ".join(s.user_id for s in info.signatures)
    return (
        f"Signed by {signed}; {info.disposition.label} needs {info.signers_required} "
        f"signatures: {missing} more by another {who} (not {others})."
    )


def age_text(age: dt.timedelta) -> str:
    """A reject's age in the largest sensible unit: 3d, 5h, 12m."""
    seconds = int(age.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{max(0, seconds) // 60}m"


def parse_age(text: str) -> dt.timedelta | None:
    """'3d', '12h', '30m' -> a timedelta; '' -> None; anything else raises ValueError."""
    text = text.strip().lower()
    if not text:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[-1] not in units or not text[:-1].isdigit():
        raise ValueError("an age is a number and d, h or m, for example 3d")
    return dt.timedelta(**{units[text[-1]]: int(text[:-1])})


class ReviewScreen(StationScreen):
    """The rejects queue, oldest first, filterable by lot, part, station and age."""

    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field"),
        Binding("f3", "focus_filters", "Filter"),
        Binding("f5", "reload", "Reload"),
        Binding("escape", "leave", "Back"),
        Binding("f2", "sign_out", "Sign out"),
    ]

    def __init__(self, review: Review, *, can_leave: bool = True) -> None:
        super().__init__()
        self.review = review
        self.can_leave = can_leave
        self.rejects: list[RejectSummary] = []

    def compose(self) -> ComposeResult:
        """Filters, the queue, a message line, the status bar."""
        source = self.review.source.description
        yield Plain(f"Rejects awaiting disposition · {source}", classes="title")
        with Grid(classes="fields", id="filters"):
            yield Label("Lot")
            yield Input(id="f-lot", placeholder="any")
            yield Label("Part")
            yield Input(id="f-part", placeholder="any")
            yield Label("Station")
            yield Input(id="f-station", placeholder="any")
            yield Label("Older than")
            yield Input(id="f-age", placeholder="e.g. 3d, 12h (any)")
        yield PlainTable(id="rejects", cursor_type="row", zebra_stripes=True)
        yield Plain("", id="spc-alarms")
        yield Plain("", id="message", classes="message")
        yield GaugeStatusBar(id="gauges")
        yield KeyBar()

    def on_mount(self) -> None:
        """Columns, then the queue."""
        table = self.query_one("#rejects", DataTable)
        table.add_columns("Reject", "Lot", "Serial", "Part", "Failed", "Defect", "Age", "Status")
        self.set_focus(table)
        self.action_reload()
        self.app.refresh_status()

    def on_screen_resume(self) -> None:
        """Back from a detail: the queue may have changed."""
        self.action_reload()

    def _filter(self) -> RejectFilter | None:
        def value(field: str) -> str | None:
            return self.query_one(f"#{field}", Input).value.strip() or None

        try:
            older = parse_age(self.query_one("#f-age", Input).value)
        except ValueError as exc:
            self.say(f"Older than: {exc}.", error=True)
            return None
        return RejectFilter(
            lot=value("f-lot"),
            part_number=value("f-part"),
            station=value("f-station"),
            older_than=older,
        )

    def action_reload(self) -> None:
        """Read the queue again with the filters."""
        flt = self._filter()
        if flt is not None:
            self.submit(lambda: self.review.queue(flt), self._show)
        self.submit(
            lambda: review_line(self.review.source),
            lambda line: self.query_one("#spc-alarms", Plain).update(plain(line)),
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a filter applies the filters."""
        self.action_reload()
        self.set_focus(self.query_one("#rejects", DataTable))

    def _show(self, rejects: list[RejectSummary]) -> None:
        self.rejects = rejects
        table = self.query_one("#rejects", DataTable)
        table.clear()
        for r in rejects:
            table.add_row(
                r.short_id,
                r.lot,
                r.serial,
                f"{r.part_number} {r.revision}",
                ",".join(r.failed),
                r.defect_code or "—",
                age_text(r.age),
                r.status.value,
            )
        count = len(rejects)
        self.say(
            f"{count} reject{'s' if count != 1 else ''} awaiting review · Enter opens one."
            if count
            else "No rejects awaiting disposition."
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the detail of the chosen reject."""
        if self.rejects:
            chosen = self.rejects[event.cursor_row]
            self.submit(
                lambda: self.review.detail(chosen.reject),
                lambda detail: self.app.push_screen(RejectDetailScreen(self.review, detail)),
            )

    def action_focus_filters(self) -> None:
        """Move to the filters."""
        self.set_focus(self.query_one("#f-lot", Input))

    def action_leave(self) -> None:
        """Back to the job screen (at a bench)."""
        if self.can_leave:
            self.app.pop_screen()

    def action_sign_out(self) -> None:
        """Sign out."""
        self.app.sign_out()


class RejectDetailScreen(StationScreen):
    """One reject: every measurement of the part, gauges, people, times; sign a disposition."""

    BINDINGS = [
        Binding("s", "sign", "Sign disposition"),
        Binding("c", "cosign", "Co-sign"),
        Binding("r", "resolve", "Resolve conflict"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, review: Review, detail: RejectDetail) -> None:
        super().__init__()
        self.review = review
        self.detail = detail

    def compose(self) -> ComposeResult:
        """Summary, measurements, dispositions, message, keys."""
        s = self.detail.summary
        yield Plain(
            f"Reject {s.short_id} · {s.part_number} rev {s.revision} · lot {s.lot} · "
            f"S/N {s.serial}",
            classes="title",
        )
        yield Plain("", id="reject-summary")
        yield PlainTable(id="measurements", cursor_type="row", zebra_stripes=True)
        yield Plain("", id="reject-dispositions")
        yield Plain("", id="message", classes="message")
        yield KeyBar()

    def on_mount(self) -> None:
        """Fill in the detail."""
        table = self.query_one("#measurements", DataTable)
        table.add_columns(
            "#", "Value", "Limits", "Result", "By", "Gauge (cal.)", "Inspector", "UTC", "Note"
        )
        self.set_focus(table)
        self._fill()

    def _fill(self) -> None:
        d, s = self.detail, self.detail.summary
        self.query_one("#reject-summary", Static).update(
            f"Station {s.station} · inspector {s.inspector} · closed {s.closed_at[:19]} UTC · "
            f"defect {s.defect_code or '—'}: {s.note or ''}\n"
            f"Failed: {', '.join(s.failed)} · status: {s.status.value} · "
            f"signature binds {d.signed_hash[:16]}…"
        )
        table = self.query_one("#measurements", DataTable)
        table.clear()
        for m in d.measurements:
            limits = f"{m.lower or '—'}…{m.upper or '—'} {m.spec_unit or ''}".strip()
            if m.kind == "attribute":
                limits = "attribute"
            result = m.verdict.upper() + ("·GB" if m.zone == "guard-band" else "")
            gauge = (
                "manual"
                if m.source == "manual"
                else (f"{m.gauge_asset} ({m.calibration_now.value if m.calibration_now else '?'})")
            )
            note = m.reason or m.manual_reason or ""
            if not m.current:
                note = f"superseded · {note}"
            value = f"{m.value} {m.unit or ''}".strip()
            if m.kind != "attribute" and m.unit not in (None, m.spec_unit):
                value += f" = {m.value_in_spec_unit} {m.spec_unit or ''}".rstrip()
            by = f"{m.exceeds_by} {m.spec_unit or ''}".strip() if m.exceeds_by else ""
            table.add_row(
                m.characteristic,
                value,
                limits,
                result,
                by,
                gauge,
                m.inspector,
                m.measured_at[5:19],
                fit(note, 30),
            )
        self.query_one("#reject-dispositions", Static).update(self._dispositions_text())

    def _dispositions_text(self) -> str:
        if self.detail.standing.conflict:
            return "\n".join(
                [
                    "CONFLICTING DISPOSITIONS — signed apart; none is in force until a "
                    "supervisor signs which one stands: R",
                    *(f"  {line}" for line in conflict_lines(self.detail)),
                ]
            )
        info = self.detail.disposition
        if info is None:
            return "No disposition yet. S: sign a disposition (supervisor, PIN)."
        lines = [
            f"Disposition: {info.disposition.label} — {info.reason}"
            + (f" (to {info.regrade_to})" if info.regrade_to else ""),
        ]
        for sig in info.signatures:
            when = sig.signed_at[:19]
            lines.append(f"  signed by {sig.name} ({sig.user_id}) at {when} UTC — {sig.meaning}")
        if not info.complete:
            lines.append(f"  {still_needed(info)} C co-signs.")
        return "\n".join(lines)

    def _signed(self, info: DispositionInfo | None) -> None:
        if info is None:
            return
        if info.complete:
            self.say(f"{info.disposition.label} signed: complete.")
        else:
            self.say(f"{info.disposition.label} signed. {still_needed(info)}")
        self.submit(lambda: self.review.detail(self.detail.summary.reject), self._reload)

    def _reload(self, detail: RejectDetail) -> None:
        self.detail = detail
        self._fill()

    def action_sign(self) -> None:
        """Choose a disposition, give the reason, sign with user id and PIN."""
        if self.detail.standing.conflict:
            self.say("This reject has conflicting dispositions; R resolves which one stands.")
            return
        if self.detail.disposition is not None:
            self.say("This reject already has a disposition; C co-signs it if required.")
            return
        user = self.app.user
        default_user = user.user_id if user else ""
        review, reject, expected = self.review, self.detail.summary.reject, self.detail.signed_hash

        def sign(answer: SignAnswer) -> DispositionInfo:
            assert answer.disposition is not None
            return review.sign(
                reject,
                answer.disposition,
                answer.reason,
                user_id=answer.user_id,
                pin=answer.pin,
                expected_hash=expected,
                regrade_to=answer.regrade_to,
            )

        self.app.push_screen(SignDialog(self.detail, default_user, sign), self._signed)

    def action_cosign(self) -> None:
        """Second signature by another supervisor (user id and PIN)."""
        info = self.detail.disposition
        if (
            info is None
            or info.complete
            or self.detail.summary.status is not Status.AWAITING_SECOND
        ):
            self.say("Nothing to co-sign here.")
            return

        review, reject, expected = self.review, self.detail.summary.reject, self.detail.signed_hash

        def cosign(answer: SignAnswer) -> DispositionInfo:
            return review.cosign(
                reject, user_id=answer.user_id, pin=answer.pin, expected_hash=expected
            )

        self.app.push_screen(SignDialog(self.detail, "", cosign, cosign=info), self._signed)

    def action_resolve(self) -> None:
        """Sign which of conflicting dispositions stands (reason, user id and PIN)."""
        if not self.detail.standing.conflict:
            self.say("There are no conflicting dispositions to resolve here.")
            return
        user = self.app.user

        def signed(answer: ResolveAnswer | None) -> None:
            if answer is None:
                return
            reject = self.detail.summary.reject
            self.submit(
                lambda: self.review.resolve_conflict(
                    reject, answer.keep, answer.reason, user_id=answer.user_id, pin=answer.pin
                ),
                self._resolved,
            )

        self.app.push_screen(ResolveDialog(self.detail, user.user_id if user else ""), signed)

    def _resolved(self, resolution: Resolution) -> None:
        self.say(f"Resolved: disposition {resolution.kept[:8]} stands; the others are set aside.")
        self.submit(lambda: self.review.detail(self.detail.summary.reject), self._reload)

    def action_back(self) -> None:
        """Back to the queue."""
        self.app.pop_screen()


def conflict_lines(detail: RejectDetail) -> list[str]:
    """One line per conflicting disposition: id, what, why, where, who signed first."""
    lines = []
    for d in detail.dispositions:
        first = d.signatures[0] if d.signatures else None
        by = f" · signed by {first.name} {first.signed_at[:16]}" if first else ""
        lines.append(f"{d.uuid[:8]} {d.disposition.label} — {d.reason} · {d.station}{by}")
    return lines


@dataclass(frozen=True)
class SignAnswer:
    """What the signer entered."""

    disposition: Disposition | None
    reason: str
    regrade_to: str | None
    user_id: str
    pin: str


class SignDialog(Dialog):
    """An electronic signature: disposition, reason, and the signer's user id and PIN.

    The dialog signs itself (on the writer thread) and closes with the signed disposition; a
    wrong PIN or a refusal is shown in the dialog, which keeps everything typed but the PIN.
    """

    DEFAULT_CLASSES = "dialog"

    def __init__(
        self,
        detail: RejectDetail,
        user_id: str,
        sign: Callable[[SignAnswer], DispositionInfo],
        cosign: DispositionInfo | None = None,
    ) -> None:
        super().__init__()
        self.detail, self._user_id, self.cosign = detail, user_id, cosign
        self._sign = sign
        self._busy = False

    def compose(self) -> ComposeResult:
        """Disposition, reason, regrade, user, PIN, meaning."""
        s = self.detail.summary
        meaning = MEANING_SECOND_APPROVAL if self.cosign else MEANING_APPROVAL
        with Vertical():
            if self.cosign is None:
                yield Plain(f"Disposition of part {s.serial} (lot {s.lot})")
                yield OptionList(*(Option(d.label, id=d.value) for d in Disposition), id="kinds")
                yield Input(id="reason", placeholder="reason (required)")
                yield Input(id="regrade", placeholder="regrade to (only for a regrade)")
            else:
                yield Plain(
                    f"Co-sign: {self.cosign.disposition.label} of part {s.serial} — "
                    f"{self.cosign.reason}"
                )
            yield Plain(
                f"Signing means: {meaning}. It binds the reject's records "
                f"(hash {self.detail.signed_hash[:12]}…) to your name and the time."
            )
            yield Input(id="user", value=self._user_id, placeholder="your user id")
            yield Input(id="pin", password=True, placeholder="your PIN", restrict=r"[0-9]*")
            yield Plain("Enter on the PIN signs · Esc cancels", id="dialog-message")

    def on_mount(self) -> None:
        """Start on the disposition list (or the user id when co-signing)."""
        first = "#kinds" if self.cosign is None else "#user"
        self.set_focus(self.query_one(first))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A disposition was picked: type the reason."""
        self.set_focus(self.query_one("#reason", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves on; Enter on the PIN signs."""
        order = ["reason", "regrade", "user", "pin"] if self.cosign is None else ["user", "pin"]
        field = event.input.id or ""
        if field != "pin":
            self.set_focus(self.query_one(f"#{order[order.index(field) + 1]}", Input))
            return
        kind = None
        if self.cosign is None:
            kinds = self.query_one("#kinds", OptionList)
            if kinds.highlighted is None:
                self.set_focus(kinds)
                return self._error("Pick a disposition.")
            kind = Disposition(str(kinds.get_option_at_index(kinds.highlighted).id))
        reason = self.query_one("#reason", Input).value if self.cosign is None else ""
        regrade = self.query_one("#regrade", Input).value.strip() if self.cosign is None else ""
        user_id = self.query_one("#user", Input).value.strip()
        pin = self.query_one("#pin", Input).value
        if not user_id or not pin:
            return self._error("Enter your user id and PIN to sign.")
        if self._busy:
            return None
        self._busy = True
        self.query_one("#dialog-message", Static).update("Signing…")
        answer = SignAnswer(kind, reason, regrade or None, user_id, pin)
        self.app.submit(lambda: self._sign(answer), self._signed, self._refused)
        return None

    def _signed(self, info: DispositionInfo) -> None:
        self._busy = False
        if self.is_attached:
            self.dismiss(info)

    def _refused(self, error: InspectStationError) -> None:
        """A wrong PIN or a refusal: say why; keep what was typed, except the PIN."""
        self._busy = False
        if not self.is_attached:
            return
        pin = self.query_one("#pin", Input)
        pin.value = ""
        self.set_focus(pin)
        self._error(error.message)


@dataclass(frozen=True)
class ResolveAnswer:
    """Which disposition stands, why, and the signer."""

    keep: str
    reason: str
    user_id: str
    pin: str


class ResolveDialog(Dialog):
    """A signed resolution: the disposition that stands, the reason, user id and PIN."""

    DEFAULT_CLASSES = "dialog"

    def __init__(self, detail: RejectDetail, user_id: str) -> None:
        super().__init__()
        self.detail, self._user_id = detail, user_id

    def compose(self) -> ComposeResult:
        """The conflicting dispositions, reason, user, PIN, meaning."""
        s = self.detail.summary
        with Vertical():
            yield Static(f"Conflicting dispositions of part {s.serial} (lot {s.lot}): which one?")
            lines = conflict_lines(self.detail)
            choices = zip(self.detail.dispositions, lines, strict=True)
            yield OptionList(*(Option(line, id=d.uuid) for d, line in choices), id="kept")
            yield Input(id="reason", placeholder="reason (required)")
            yield Static(
                f"Signing means: {MEANING_RESOLUTION}. The others stay in the record, set aside."
            )
            yield Input(id="user", value=self._user_id, placeholder="your user id")
            yield Input(id="pin", password=True, placeholder="your PIN", restrict=r"[0-9]*")
            yield Static("Enter on the PIN signs · Esc cancels", id="dialog-message")

    def on_mount(self) -> None:
        """Start on the list of dispositions."""
        self.set_focus(self.query_one("#kept"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A disposition was picked: type the reason."""
        self.set_focus(self.query_one("#reason", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves on; Enter on the PIN signs."""
        order = ["reason", "user", "pin"]
        field = event.input.id or ""
        if field != "pin":
            self.set_focus(self.query_one(f"#{order[order.index(field) + 1]}", Input))
            return
        kept = self.query_one("#kept", OptionList)
        if kept.highlighted is None:
            self.set_focus(kept)
            return self._error("Pick the disposition that stands.")
        user_id = self.query_one("#user", Input).value.strip()
        pin = self.query_one("#pin", Input).value
        if not user_id or not pin:
            return self._error("Enter your user id and PIN to sign.")
        keep = str(kept.get_option_at_index(kept.highlighted).id)
        self.dismiss(ResolveAnswer(keep, self.query_one("#reason", Input).value, user_id, pin))
        return None
