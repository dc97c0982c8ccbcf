"""Supervisors in the TUI: the rejects queue, a reject's detail, signing and co-signing."""

from __future__ import annotations

from textual.widgets import DataTable, Input, OptionList, Static
from uikit import settle, sign_in, type_text, wait_until

from inspect_station.recording import ManualSource
from inspect_station.review.service import Review
from inspect_station.sync import Shipper, open_source
from inspect_station.tui.screens.job import JobScreen
from inspect_station.tui.screens.review import RejectDetailScreen, ReviewScreen, SignDialog
from inspect_station.wiring import build_app


def reject_a_part(service, serial: str = "007", lot: str = "L-REV") -> None:
    """Record a failing BRK-1042 C part and reject it with D01, as an inspector would."""
    spec = service.library.get("BRK-1042@C")
    user = service.users.get("demo")
    for char, value in [("1", "120.31"), ("2", "12.005"), ("3", "0.02"), ("4", "pass")]:
        service.measure(user, spec, lot, serial, char, value, source=ManualSource("test"))
    service.close_part(user, spec, lot, serial, defect_code="D01", note="too long")


def message(app) -> str:
    """The current screen's message line ("" while a dialog without one is still on top: a
    signature being checked on a loaded machine)."""
    lines = app.screen.query("#message")
    return str(lines.first(Static).render()) if lines else ""


async def open_queue(pilot) -> ReviewScreen:
    """Supervisor at the bench: F9 opens the rejects awaiting disposition."""
    await sign_in(pilot, "super", "271828")
    await pilot.press("f9")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReviewScreen)
    return pilot.app.screen


async def sign(pilot, kind_steps: int, reason: str, user: str, pin: str) -> None:
    """In the sign dialog: pick the disposition, give the reason, sign with user id and PIN."""
    for _ in range(kind_steps):
        await pilot.press("down")
    await pilot.press("enter")
    await type_text(pilot, reason)
    await pilot.press("enter", "enter")  # reason, (no regrade)
    await pilot.press("ctrl+a", "ctrl+k")  # clear the prefilled user id
    await type_text(pilot, user)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await settle(pilot)


async def test_supervisor_signs_a_scrap_disposition(station):
    reject_a_part(station.service)
    app = station.app()
    async with app.run_test(size=(100, 30)) as pilot:
        queue = await open_queue(pilot)
        table = queue.query_one("#rejects", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        assert "1 reject awaiting review" in message(app)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, RejectDetailScreen)
        summary = str(detail.query_one("#reject-summary", Static).render())
        assert "defect D01: too long" in summary and "Failed: 1" in summary
        rows = detail.query_one("#measurements", DataTable)
        assert rows.row_count == 4
        assert "FAIL" in [str(c) for c in rows.get_row_at(0)]
        await pilot.press("s")
        await sign(pilot, 4, "cannot be reworked", "super", "0000")  # wrong PIN first
        dialog = app.screen
        assert isinstance(dialog, SignDialog)  # still open, nothing typed is lost
        shown = str(dialog.query_one("#dialog-message", Static).render())
        assert "Wrong PIN; nothing was signed (4 tries left before user super is locked)" in shown
        kinds = dialog.query_one("#kinds", OptionList)
        assert kinds.get_option_at_index(kinds.highlighted).id == "scrap"
        assert dialog.query_one("#reason", Input).value == "cannot be reworked"
        assert dialog.query_one("#user", Input).value == "super"
        assert dialog.query_one("#pin", Input).value == "" and dialog.focused.id == "pin"
        await type_text(pilot, "271828")
        await pilot.press("enter")
        await settle(pilot)
        await wait_until(pilot, lambda: "Scrap signed: complete" in message(app))
        shown = str(detail.query_one("#reject-dispositions", Static).render())
        assert "Disposition: Scrap — cannot be reworked" in shown
        assert "signed by Sam Supervisor (super)" in shown and "approval of disposition" in shown
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await wait_until(pilot, lambda: table.row_count == 0)
    rows = station.service.store.query("SELECT disposition, reason FROM dispositions")
    assert rows == [{"disposition": "scrap", "reason": "cannot be reworked"}]
    sign_ins = station.service.store.query("SELECT reason FROM sign_ins WHERE user_id = 'super'")
    assert "wrong PIN when signing" in [r["reason"] for r in sign_ins]


async def test_use_as_is_needs_a_second_supervisor(station):
    reject_a_part(station.service)
    app = station.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_queue(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        await pilot.press("s")
        await sign(pilot, 0, "customer concession CC-12", "super", "271828")
        needed = (
            "Signed by Sam Supervisor (super); Use as is (concession) needs 2 signatures: "
            "1 more by another supervisor (not super)."
        )
        await wait_until(pilot, lambda: needed in message(app))
        shown = str(detail.query_one("#reject-dispositions", Static).render())
        assert f"{needed} C co-signs." in shown
        await pilot.press("c")
        await type_text(pilot, "super")  # the same person cannot sign twice
        await pilot.press("enter")
        await type_text(pilot, "271828")
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SignDialog)  # refused in the dialog, which stays open
        refusal = str(dialog.query_one("#dialog-message", Static).render()).lower()
        assert "different" in refusal or "already" in refusal
        await pilot.press("shift+tab", "ctrl+a", "ctrl+k")  # back to the user id, cleared
        await type_text(pilot, "sue")
        await pilot.press("enter")
        await type_text(pilot, "161803")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Use as is (concession) signed: complete" in message(app))
        shown = str(detail.query_one("#reject-dispositions", Static).render())
        assert "Sue Second (sue)" in shown and "second approval" in shown
    sigs = station.service.store.query("SELECT user_id FROM signatures ORDER BY seq")
    assert [s["user_id"] for s in sigs] == ["super", "sue"]


async def test_inspectors_cannot_open_the_rejects(station):
    reject_a_part(station.service)
    app = station.app()
    async with app.run_test() as pilot:
        await sign_in(pilot, "demo", "314159")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, JobScreen)
    assert station.service.store.query("SELECT * FROM dispositions") == []


async def test_office_terminal_reviews_the_central_store(station, tmp_path):
    central = f"sqlite:///{tmp_path / 'central.db'}"
    reject_a_part(station.service)
    Shipper(station.service.store, central).ship()
    source = open_source(central)
    service = station.service  # the office's own journal: here the same demo file
    review = Review(source, service.store, service.users)
    app = build_app(
        service,
        review=review,
        office=True,
        hub_factory=lambda _cb: None,
        shipper_factory=lambda: None,
    )
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, "super", "271828")
            assert isinstance(app.screen, ReviewScreen)
            assert "central store" in str(app.screen.query_one(".title", Static).render())
            table = app.screen.query_one("#rejects", DataTable)
            await wait_until(pilot, lambda: table.row_count == 1)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("s")
            await sign(pilot, 1, "re-machine the face", "super", "271828")  # rework
            await wait_until(pilot, lambda: "Rework signed: complete" in message(app))
    finally:
        source.close()
    Shipper(service.store, central).ship()
    again = open_source(central)
    try:
        detail = Review(again, service.store, service.users).queue()
        assert detail == []  # disposed: no longer awaiting
    finally:
        again.close()


async def test_office_terminal_refuses_inspectors(station):
    app = build_app(
        station.service, office=True, hub_factory=lambda _cb: None, shipper_factory=lambda: None
    )
    async with app.run_test() as pilot:
        await sign_in(pilot, "demo", "314159")
        assert app.user is None


async def test_second_signer_policy_comes_from_station_toml(station):
    station.service.config.second_signer = []  # this plant needs no second signer
    reject_a_part(station.service)
    app = station.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_queue(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")
        await sign(pilot, 0, "customer concession CC-13", "super", "271828")
        await wait_until(pilot, lambda: "Use as is (concession) signed: complete" in message(app))
