"""An office terminal shows conflicting dispositions and a supervisor resolves them in the TUI."""

from __future__ import annotations

from rejectkit import make_people
from test_review_flows import message, reject_a_part
from textual.widgets import DataTable, Static
from uikit import settle, sign_in, type_text, wait_until

from inspect_station.records import LocalSource
from inspect_station.review.model import Status
from inspect_station.review.service import Review
from inspect_station.store import LocalStore
from inspect_station.sync import Shipper, open_source
from inspect_station.tui.screens.review import RejectDetailScreen, ReviewScreen
from inspect_station.wiring import build_app


async def test_conflicting_dispositions_are_shown_and_resolved(station, tmp_path):
    central = f"sqlite:///{tmp_path / 'central.db'}"
    service = station.service
    reject_a_part(service)
    Shipper(service.store, central).ship()
    (reject,) = [r["uuid"] for r in service.store.query("SELECT uuid FROM current_results")]
    # Another office signs rework from the central store; this station, offline, signs scrap.
    other = LocalStore(tmp_path / "office-2.db", "OFFICE-2")
    make_people(other, ("kim", "Kim Park", "550761"))
    with open_source(central) as source:
        Review(source, other).sign(reject, "rework", "re-machine", user_id="kim", pin="550761")
    Shipper(other, central).ship()
    other.close()
    Review(LocalSource(service.store), service.store, service.users).sign(
        reject, "scrap", "cracked", user_id="super", pin="271828"
    )
    assert Shipper(service.store, central).ship().conflicts == (reject,)

    source = open_source(central)
    review = Review(source, service.store, service.users)
    app = build_app(
        service, review=review, office=True, hub_factory=lambda _cb: None, shipper_factory=None
    )
    try:
        async with app.run_test(size=(110, 32)) as pilot:
            await sign_in(pilot, "super", "271828")
            assert isinstance(app.screen, ReviewScreen)
            table = app.screen.query_one("#rejects", DataTable)
            await wait_until(pilot, lambda: table.row_count == 1)
            assert Status.CONFLICT.value in [str(c) for c in table.get_row_at(0)]
            await pilot.press("enter")
            await settle(pilot)
            detail = app.screen
            assert isinstance(detail, RejectDetailScreen)
            shown = str(detail.query_one("#reject-dispositions", Static).render())
            assert "CONFLICTING DISPOSITIONS" in shown
            assert "Rework — re-machine" in shown and "Scrap — cracked" in shown
            await pilot.press("s")
            await settle(pilot)
            assert "conflicting dispositions; R resolves" in message(app)
            await pilot.press("r")
            await settle(pilot)
            await pilot.press("enter")  # the first listed: rework, signed first
            await type_text(pilot, "agreed with the customer")
            await pilot.press("enter", "enter")  # reason, the prefilled user id
            await type_text(pilot, "271828")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Resolved: disposition" in message(app))
            await wait_until(
                pilot,
                lambda: (
                    "Disposition: Rework — re-machine"
                    in str(detail.query_one("#reject-dispositions", Static).render())
                ),
            )
    finally:
        source.close()
    resolutions = service.store.query("SELECT kept, reason, user_id FROM resolutions")
    assert [(r["reason"], r["user_id"]) for r in resolutions] == [
        ("agreed with the customer", "super")
    ]
