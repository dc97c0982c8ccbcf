"""Export fixtures: a recorded lot with gauge readings, a correction, rejects and dispositions."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from centralkit import central_url, sqlite_central_template  # noqa: F401  (fixtures)
from lots import GOOD, PLATE, TODAY, RecordedLot, record_part
from pg import pg_central_database, pg_database, pg_server  # noqa: F401  (fixtures)
from userkit import PINS, add_users

from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import PartSpec, load_spec
from inspect_station.store import LocalStore
from inspect_station.users import UserDirectory


@pytest.fixture(scope="session")
def plate(tmp_path_factory: pytest.TempPathFactory) -> PartSpec:
    """PLT-77 revision B (AQL 10; guard band, one-sided, attribute; Ø in names)."""
    path = tmp_path_factory.mktemp("specs") / "PLT-77-B.toml"
    path.write_text(PLATE, encoding="utf-8")
    return load_spec(path)


@pytest.fixture
def people(store: LocalStore) -> UserDirectory:
    """ann (inspector), sam and kim (supervisors) at station TEST-1."""
    return add_users(store)


@pytest.fixture
def lot7(store: LocalStore, people: UserDirectory, plate: PartSpec) -> RecordedLot:
    """Lot L-7 of PLT-77 B, five parts: P1 good; P2 rejected (length 40.08, disposed rework,
    re-inspected good); P3 good after a correction; '+P4' good (a formula-like serial); P5 good.
    """
    recorder = Recorder(store, today=TODAY)
    lot = RecordedLot(store, people, recorder, plate)
    record_part(recorder, plate, "L-7", "P1", GOOD)
    record_part(
        recorder,
        plate,
        "L-7",
        "P2",
        {**GOOD, "1": "40.08"},
        defect="D01",
        note='burr, side "A"',
    )
    record_part(recorder, plate, "L-7", "P3", {**GOOD, "3": "0.201"})
    recorder.measure(
        spec=plate,
        lot="L-7",
        serial="P3",
        inspector="ann",
        characteristic="3",
        value="0.012",
        source=ManualSource("typed from the dial"),
        reason="typo: 0.201 keyed for 0.012",
        auto_close=True,
    )
    record_part(recorder, plate, "L-7", "+P4", GOOD)
    record_part(recorder, plate, "L-7", "P5", {**GOOD, "2": "6.004"})
    review = lot.review()
    review.sign(
        lot.reject_of("P2"), "rework", "deburr and re-cut to length", user_id="sam", pin=PINS["sam"]
    )
    review.start_reinspection(lot.reject_of("P2"), recorder, plate, "ann")
    record_part(recorder, plate, "L-7", "P2", {**GOOD, "1": "40.03"})
    return lot


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium: found, or installed with apt-get when running as root."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.fail(
                "The HTML certificate tests need Chromium: install it with "
                "`apt-get install -y chromium` (Debian) or run the tests as root to have it "
                "installed."
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        ):
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                pytest.fail(f"{' '.join(command)} failed: {result.stderr.strip()[-500:]}")
        path = shutil.which("chromium") or "/usr/bin/chromium"
    return path
