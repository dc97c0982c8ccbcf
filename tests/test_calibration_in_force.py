"""A recorded calibration is in force at the bench: a failed one takes the gauge out of use until
a passing one is recorded, and a passing one renews the gauge's certificate and due date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from userkit import PINS, add_users

from inspect_station.calibration import record_calibration
from inspect_station.cli import main
from inspect_station.config import CalibrationStatus, GaugeAsset, load_config
from inspect_station.errors import CalibrationExpired
from inspect_station.gauges.hub import AssetState, GaugeState
from inspect_station.recording import GaugeSource, ManualSource, Recorder
from inspect_station.spec import PartSpec, SpecLibrary
from inspect_station.station import StationService
from inspect_station.store import LocalStore
from inspect_station.tui.widgets import gauge_label
from inspect_station.users import UserDirectory

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def caliper(due: dt.date = dt.date(2027, 3, 1)) -> GaugeAsset:
    """The caliper CAL-0042 as station.toml lists it (calibrated 2026-03-01)."""
    return GaugeAsset(
        asset="CAL-0042",
        profile="mitutoyo-ascii",
        port="loop://",
        unit="mm",
        gauge_type="caliper",
        serial_number="A1234567",
        certificate="CERT-2026-0042",
        calibrated_on=dt.date(2026, 3, 1),
        calibration_due=due,
    )


@pytest.fixture
def users(store: LocalStore) -> UserDirectory:
    """ann (inspector), sam and kim (supervisors)."""
    return add_users(store)


def calibrate(store: LocalStore, users: UserDirectory, result: str, on: dt.date, **kw) -> None:
    """sam records a calibration of CAL-0042."""
    record_calibration(
        store,
        users,
        asset="CAL-0042",
        result=result,
        certificate=kw.pop("certificate", f"C-{on:%m%d}-{result}"),
        user_id="sam",
        pin=PINS["sam"],
        calibrated_on=on,
        now=NOW,
        **kw,
    )


def measure(store: LocalStore, spec: PartSpec, asset: GaugeAsset, serial: str = "S1"):
    """Record characteristic 1 of ``serial`` from ``asset``."""
    return Recorder(store, today=TODAY).measure(
        spec=spec,
        lot="L1",
        serial=serial,
        inspector="ann",
        characteristic="1",
        value="120.00",
        source=GaugeSource(asset, b"01A+0120.00\r"),
    )


def test_a_failed_calibration_refuses_the_gauges_next_reading(store, users, bracket):
    measure(store, bracket, caliper(), "S1")
    calibrate(store, users, "fail", dt.date(2026, 11, 24))
    before = len(list(store.records()))
    with pytest.raises(CalibrationExpired) as refused:
        measure(store, bracket, caliper(), "S2")
    assert refused.value.message == (
        "Gauge CAL-0042 (serial A1234567) failed its calibration on 2026-11-24 (certificate "
        "C-1124-fail) and cannot be used until a passing calibration is recorded."
    )
    assert len(list(store.records())) == before
    # A value typed by hand, with its reason, is still taken (another gauge, a CMM ...).
    manual = Recorder(store, today=TODAY).measure(
        spec=bracket,
        lot="L1",
        serial="S2",
        inspector="ann",
        characteristic="1",
        value="120.00",
        source=ManualSource("caliper out of use, measured on the height gauge"),
    )
    assert manual.seq > before


def test_a_passing_calibration_after_the_failure_puts_the_gauge_back_with_its_certificate(
    store, users, bracket
):
    calibrate(store, users, "fail", dt.date(2026, 11, 20))
    calibrate(store, users, "pass", dt.date(2026, 11, 24), due=dt.date(2027, 11, 24))
    ack = measure(store, bracket, caliper())
    body = next(r for r in store.records() if r["seq"] == ack.seq)["body"]
    assert body["gauge"]["certificate"] == "C-1124-pass"
    assert body["gauge"]["calibration_due"] == "2027-11-24"


def test_a_recorded_calibration_renews_a_gauge_that_station_toml_shows_overdue(
    store, users, bracket
):
    overdue = caliper(due=dt.date(2026, 11, 1))
    with pytest.raises(CalibrationExpired):
        measure(store, bracket, overdue)
    calibrate(store, users, "pass", dt.date(2026, 11, 2), due=dt.date(2027, 11, 2))
    assert measure(store, bracket, overdue).seq


def test_a_record_older_than_station_tomls_calibration_is_not_in_force(store, users, bracket):
    calibrate(store, users, "fail", dt.date(2026, 2, 1))
    assert caliper().in_force(None) == caliper()
    ack = measure(store, bracket, caliper())
    body = next(r for r in store.records() if r["seq"] == ack.seq)["body"]
    assert body["gauge"]["certificate"] == "CERT-2026-0042"


def test_the_station_shows_a_failed_gauge_locked(store, users, bracket, library: SpecLibrary):
    config = load_config(None).model_copy(update={"station": "TEST-1", "gauge": [caliper()]})
    calibrate(store, users, "fail", dt.date(2026, 11, 24))
    service = StationService(config, store, library, today=TODAY)
    (asset,) = service.config.gauge
    status = service.calibration(asset)
    assert status is CalibrationStatus.FAILED and status.locked
    label = gauge_label(
        AssetState(
            asset="CAL-0042",
            port="loop://",
            profile="mitutoyo-ascii",
            state=GaugeState.CONNECTED,
            calibration=status,
            calibration_due=asset.calibration_due,
            can_request=False,
        )
    )
    assert label.plain == "⊘ CAL-0042 LOCKED cal. failed"


def test_gauges_list_shows_the_calibration_in_force(store, users, tmp_path: Path):
    calibrate(store, users, "fail", dt.date(2026, 11, 24))
    config = tmp_path / "station.toml"
    config.write_text(
        f'station = "TEST-1"\ndb = "{store.path}"\n'
        "[[gauge]]\n"
        'asset = "CAL-0042"\nprofile = "mitutoyo-ascii"\nport = "loop://"\nunit = "mm"\n'
        'serial_number = "A1234567"\ncertificate = "CERT-2026-0042"\n'
        "calibrated_on = 2026-03-01\ncalibration_due = 2027-03-01\n"
    )
    result = CliRunner().invoke(main, ["--config", str(config), "gauges", "list"])
    assert result.exit_code == 0, result.output
    assert "CAL-0042" in result.output and "calibration failed" in result.output
