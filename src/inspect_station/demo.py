"""The demo station: embedded defaults with simulated gauges, demo users and a demo database.

Everything here is real station code driven by simulators: the gauges speak their protocols on
pseudo-terminals behind stable links, the readings go through the same readers, evaluation and
durable record as at a bench. Only the person pressing DATA is simulated.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from inspect_station.config import GaugeAsset, StationConfig
from inspect_station.locations import data_dir, shipped_specs_dir
from inspect_station.spec.model import Characteristic, Kind, PartSpec
from inspect_station.units import from_base, to_base
from inspect_station.users import Role, UserDirectory

DEMO_STATION = "DEMO-STATION"
DEMO_ADMIN = "admin"
"""The demo's administrator, who adds the other demo users."""
DEMO_USERS = [
    # user id, printed name, role, PIN, qualifications, badge
    (DEMO_ADMIN, "Avery Admin", Role.ADMIN, "577215", [], None),
    ("demo", "Dana Demo", Role.INSPECTOR, "314159", ["*"], "BADGE-0001"),
    ("super", "Sam Supervisor", Role.SUPERVISOR, "271828", ["*"], "BADGE-0002"),
    ("sue", "Sue Second", Role.SUPERVISOR, "161803", ["*"], "BADGE-0003"),
    ("trainee", "Terry Trainee", Role.INSPECTOR, "141421", ["HSG-*"], None),
]
"""The demo's users (listed in the README): an administrator, an inspector, two supervisors
(so a second signature can be given) and a trainee qualified only for HSG-* parts."""
_LEGACY_DEMO_SUPERVISOR = ("super", "9999")
"""The supervisor an earlier demo record holds, which predates administrators."""

# asset, profile, gauge type, unit, resolution, days until calibration is due, description
_DEMO_ASSETS = [
    ("CAL-0042", "mitutoyo-ascii", "caliper", "mm", "0.01", 200, "Caliper 0-150 mm"),
    ("BG-0007", "sylvac-duplex", "bore-gauge", "mm", "0.001", 9, "Bore gauge 10-18 mm"),
    ("IND-0113", "mahr-millimar", "indicator", None, "0.001", 120, "Dial indicator on stand"),
    ("MIC-0021", "mitutoyo-usb-itn", "micrometer", "in", "0.0001", 300, "Micrometer 0-1 in"),
    ("HG-0005", "mitutoyo-ascii", "height-gauge", "mm", "0.01", 150, "Height gauge 0-300 mm"),
    ("DG-0301", "mitutoyo-ascii", "depth-gauge", "in", "0.001", -3, "Depth gauge 0-6 in"),
]


def demo_dir(base: Path | None = None) -> Path:
    """Where the demo keeps its database and simulated ports."""
    return base or data_dir() / "demo"


def demo_config(base: Path | None = None, today: dt.date | None = None) -> StationConfig:
    """A station configuration with one simulated gauge per demo asset (dates relative to today).

    One gauge is due for calibration within days and one is overdue, so both states show.
    """
    root = demo_dir(base)
    today = today or dt.date.today()
    gauges = []
    for asset, profile, kind, unit, resolution, due_in, text in _DEMO_ASSETS:
        due = today + dt.timedelta(days=due_in)
        gauges.append(
            GaugeAsset(
                asset=asset,
                profile=profile,
                port=str(root / "ports" / asset),
                unit=unit,
                resolution=resolution,
                gauge_type=kind,
                description=text,
                serial_number=f"SN-{asset.split('-')[1]}{asset[0]}",
                certificate=f"CERT-{due.year - 1}-{asset}",
                calibrated_on=due - dt.timedelta(days=365),
                calibration_due=due,
            )
        )
    return StationConfig(
        station=DEMO_STATION,
        db=root / "demo.db",
        central=f"sqlite:///{root / 'central.db'}",
        specs=[shipped_specs_dir()],
        gauge=gauges,
    )


def ensure_demo_users(users: UserDirectory) -> None:
    """Give the demo record its users, through the same authority as anywhere else.

    On an empty record the demo administrator is the bootstrap administrator and adds the
    others. A demo record made by an earlier version (no administrator; PIN hashes in its user
    records) gets its administrator from the demo supervisor of that version, and every demo
    user then gets the PIN listed in the README.
    """
    wanted = {
        user_id: (name, role, pin, quals, badge)
        for user_id, name, role, pin, quals, badge in DEMO_USERS
    }
    admin_name, _, admin_pin, _, _ = wanted[DEMO_ADMIN]
    if users.is_empty():
        actor = users.bootstrap(DEMO_ADMIN, admin_name, admin_pin)
    else:
        present = {u.user_id: u for u in users.list()}
        legacy = [
            s
            for user_id, s in users.pin_states().items()
            if s.state == "legacy" and user_id in wanted
        ]
        if not legacy and all(user_id in present for user_id in wanted):
            return
        if DEMO_ADMIN not in present:
            first = users.authorize(*_LEGACY_DEMO_SUPERVISOR)
            users.add(DEMO_ADMIN, admin_name, Role.ADMIN, admin_pin, by=first)
        actor = users.authorize(DEMO_ADMIN, admin_pin)
    pins = users.pin_states()
    for user_id, (name, role, pin, quals, badge) in wanted.items():
        if user_id == DEMO_ADMIN:
            continue
        if users.get(user_id) is None:
            users.add(user_id, name, role, pin, by=actor, qualifications=quals, badge=badge)
        elif pins[user_id].state == "legacy":
            users.set_pin(user_id, pin, by=actor)


def plausible_value(
    spec: PartSpec,
    ch: Characteristic,
    asset: GaugeAsset,
    rng: random.Random,
    fail_rate: float = 0.15,
) -> str:
    """A reading a real part might give for ``ch``, in the asset's unit and resolution.

    Mostly inside the tolerance, now and then just outside, so both verdicts show.
    """
    if ch.kind is Kind.ATTRIBUTE:
        return "pass" if rng.random() > fail_rate else "fail"
    spec_unit = spec.unit_of(ch)
    lsl, usl = ch.limits
    if lsl is not None and usl is not None:
        centre, half = (lsl + usl) / 2, (usl - lsl) / 2
    elif usl is not None:  # only a maximum (flatness, runout): a natural zero below
        centre, half = usl / 2, usl / 2
    else:
        assert lsl is not None
        half = max(abs(lsl) * Decimal("0.02"), Decimal("0.01"))
        centre = lsl + 2 * half
    spread = Decimal(str(rng.uniform(-0.8, 0.8)))
    if rng.random() < fail_rate:
        spread = Decimal(str(rng.choice([-1, 1]) * rng.uniform(1.05, 1.4)))
    value = centre + half * spread
    if usl is not None and lsl is None:
        value = abs(value)
    unit = asset.unit or spec_unit
    in_asset_unit = from_base(to_base(value, spec_unit), unit)
    step = Decimal(asset.resolution or "0.001")
    return str(in_asset_unit.quantize(step, rounding=ROUND_HALF_EVEN))
