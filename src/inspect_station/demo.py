"""The demo station: embedded defaults with simulated gauges, demo users and a demo database.

Everything here is real station code driven by simulators: the gauges speak their protocols on
pseudo-terminals behind stable links, the readings go through the same readers, evaluation and
durable record as at a bench. Only the person pressing DATA is simulated.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from inspect_station.config import GaugeAsset, StationConfig
from inspect_station.errors import ConfigError
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


def demo_config(
    base: Path | None = None, today: dt.date | None = None, db: Path | None = None
) -> StationConfig:
    """A station configuration with one simulated gauge per demo asset (dates relative to today).

    One gauge is due for calibration within days and one is overdue, so both states show. The
    record is ``demo.db`` in the demo folder unless ``db`` names another file.
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
        db=db or root / "demo.db",
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
        present = {u.user_id: u for u in users.all_users()}
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


def _tolerance_zone(ch: Characteristic) -> tuple[Decimal, Decimal, bool, bool]:
    """(low, high, low is a limit, high is a limit) of where a good part's value lies.

    A one-sided maximum (flatness, runout, roughness) starts at a natural zero; a one-sided
    minimum gets a band above it as wide as its distance to the nominal, or 4 % of the limit.
    """
    lsl, usl = ch.limits
    if lsl is not None and usl is not None:
        return lsl, usl, True, True
    if usl is not None:
        low = ch.nominal if ch.nominal is not None and ch.nominal < usl else Decimal(0)
        return min(low, usl), usl, False, True
    assert lsl is not None
    if ch.nominal is not None and ch.nominal > lsl:
        band = 2 * (ch.nominal - lsl)
    else:
        band = max(abs(lsl) * Decimal("0.04"), Decimal("0.01"))
    return lsl, lsl + band, True, False


def plausible_value(
    spec: PartSpec,
    ch: Characteristic,
    unit: str | None,
    resolution: str | None,
    rng: random.Random,
    fail_rate: float = 0.15,
) -> str:
    """A reading a real part might give for ``ch``, in the gauge's ``unit`` and ``resolution``.

    Mostly well inside the acceptance zone (inside any guard band), now and then (``fail_rate``)
    just beyond a limit the characteristic has, and always inside its reasonable range, so both
    verdicts show and nothing is refused as implausible.
    """
    if ch.kind is Kind.ATTRIBUTE:
        return "pass" if rng.random() >= fail_rate else "fail"
    spec_unit = spec.unit_of(ch)
    low, high, low_limit, high_limit = _tolerance_zone(ch)
    width = high - low
    if rng.random() < fail_rate:
        sides = [side for side, real in (("low", low_limit), ("high", high_limit)) if real]
        beyond = width * Decimal(str(round(rng.uniform(0.05, 0.4), 4)))
        value = low - beyond if rng.choice(sides) == "low" else high + beyond
    else:
        guard = ch.decision.guard_width
        inner_low = low + (guard if low_limit else 0)
        inner_high = high - (guard if high_limit else 0)
        margin = (inner_high - inner_low) / 10
        fraction = Decimal(str(round(rng.uniform(0, 1), 6)))
        value = inner_low + margin + (inner_high - inner_low - 2 * margin) * fraction
    if ch.reasonable is not None:
        value = min(max(value, ch.reasonable[0]), ch.reasonable[1])
    if not low_limit:
        value = max(value, Decimal(0))
    gauge_unit = unit or spec_unit
    in_gauge_unit = from_base(to_base(value, spec_unit), gauge_unit)
    step = Decimal(resolution or "0.001")
    return str(in_gauge_unit.quantize(step, rounding=ROUND_HALF_EVEN))


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str | Path):
        return _toml_string(str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to a station.toml")


def station_toml(config: StationConfig, comment: str = "") -> str:
    """``config`` as the text of a station.toml that loads back to the same configuration."""
    data = config.model_dump(exclude_none=True, exclude_defaults=True)
    gauges = data.pop("gauge", [])
    data.pop("spc", None)
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items()]
    # SPC: written out whole, so the answer code lists are there to be edited.
    spc = config.spc.model_dump(mode="json", exclude_none=True)
    lists = {name: spc.pop(name) for name in ("causes", "actions")}
    lines += ["", "[spc]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in spc.items()]
    for name, codes in lists.items():
        lines += ["", f"[spc.{name}]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in codes.items()]
    for gauge in gauges:
        lines += ["", "[[gauge]]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in gauge.items()]
    return "\n".join(lines) + "\n"


_DEMO_CONFIG_MARK = "The demo station, as `inspect-station demo` last started it"


def demo_config_path(config: StationConfig) -> Path:
    """Where the demo writes its configuration: next to its record, ``demo.station.toml``."""
    db = config.db_path
    return db.with_name(f"{db.stem}.station.toml")


def write_demo_config(config: StationConfig) -> Path:
    """Write the demo station's configuration next to its record, for every CLI command.

    A file of that name that the demo did not write is left alone (ConfigError).
    """
    path = demo_config_path(config)
    ours = not path.exists() or _DEMO_CONFIG_MARK in path.read_text("utf-8", errors="replace")
    if not ours:
        raise ConfigError(f"{path} exists and was not written by the demo; it is left as it is.")
    comment = (
        f"{_DEMO_CONFIG_MARK} (written again on each\n"
        "start). Use it with any command: inspect-station --config THIS-FILE verify"
    )
    path.write_text(station_toml(config, comment), encoding="utf-8")
    return path
