"""Station configuration (station.toml): station id, files, central store and gauge assets."""

from __future__ import annotations

import datetime as dt
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from inspect_station import locations
from inspect_station.errors import CalibrationExpired, ConfigError, DispositionError
from inspect_station.spc.config import SpcSettings
from inspect_station.text import field_text
from inspect_station.tomlfile import TomlFileError, read_toml, validation_problems
from inspect_station.units import KNOWN_UNITS, normalize_unit
from inspect_station.vocabulary import CalibrationResult, parse_disposition

DEFAULT_DEFECT_CODES: dict[str, str] = {
    "D01": "Dimension out of tolerance",
    "D02": "Burr / sharp edge",
    "D03": "Surface damage (scratch, dent)",
    "D04": "Thread defect",
    "D05": "Wrong material or finish",
    "D06": "Missing feature",
    "D99": "Other (see note)",
}

DEFAULT_SPC_CAUSES: dict[str, str] = {
    "NCF": "No assignable cause found",
    "TOOL": "Tool wear or breakage",
    "SETUP": "Set-up or offset changed",
    "MAT": "Material (new batch, hardness, stock size)",
    "TEMP": "Temperature (warm-up, coolant, ambient)",
    "FIXT": "Fixture or clamping",
    "GAUGE": "Gauge or measuring method",
    "OPER": "Operator or work method",
}
"""Assignable-cause codes offered when an SPC alarm is answered (code -> label)."""

DEFAULT_SPC_ACTIONS: dict[str, str] = {
    "NONE": "No action: keep monitoring",
    "ADJ": "Machine offset adjusted",
    "TOOL": "Tool changed",
    "FIXT": "Fixture cleaned or re-clamped",
    "GAUGE": "Gauge checked, re-zeroed or replaced",
    "MAINT": "Maintenance called",
    "STOP": "Process stopped, engineering informed",
}
"""Corrective-action codes offered when an SPC alarm is answered (code -> label)."""

CONTAINMENT_DEFECT = "SPC"
"""The default defect code of a part rejected by an SPC alarm's answer (containment)."""

NO_CAUSE = "NCF"
"""The default cause code that means "no assignable cause found" (alarm-fatigue figures)."""


class StationSpc(SpcSettings):
    """The ``[spc]`` section of station.toml: default SPC settings and the answer code lists."""

    causes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SPC_CAUSES))
    """Assignable-cause codes: code -> label."""
    actions: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SPC_ACTIONS))
    """Corrective-action codes: code -> label."""
    no_cause: str = NO_CAUSE
    """The cause code that means "no assignable cause found" (must be one of ``causes``)."""
    containment_defect: Annotated[str, Field(min_length=1, max_length=20)] = CONTAINMENT_DEFECT
    """Defect code of a held part an alarm's answer rejects (SPC containment)."""

    @field_validator("containment_defect")
    @classmethod
    def _containment_code(cls, value: str) -> str:
        return field_text(value, identifier=True, max_length=20)

    @field_validator("causes", "actions")
    @classmethod
    def _code_texts(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("give at least one code")
        if len(value) > 200:
            raise ValueError("at most 200 codes")
        return {
            field_text(code, identifier=True, max_length=20): field_text(text, max_length=200)
            for code, text in value.items()
        }

    @model_validator(mode="after")
    def _no_cause_listed(self) -> StationSpc:
        if self.no_cause not in self.causes:
            raise ValueError(
                f"no_cause {self.no_cause!r} is not one of the causes ({', '.join(self.causes)})"
            )
        return self

    def defaults(self) -> SpcSettings:
        """The station's default SPC settings, without the code lists."""
        return SpcSettings.model_validate(
            {name: getattr(self, name) for name in SpcSettings.model_fields}
        )


class CalibrationStatus(StrEnum):
    """Where a gauge asset stands against its calibration due date."""

    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"
    FAILED = "failed"

    @property
    def locked(self) -> bool:
        """Whether the asset may not feed a measurement (overdue, or its calibration failed)."""
        return self in (CalibrationStatus.OVERDUE, CalibrationStatus.FAILED)


class RecordedCalibration(Protocol):
    """A calibration recorded in the journal, as far as the asset's state in force needs it."""

    @property
    def result(self) -> str:
        """pass or fail."""
        ...

    @property
    def certificate(self) -> str:
        """The calibration certificate."""
        ...

    @property
    def calibrated_on(self) -> str:
        """The date of the calibration (YYYY-MM-DD)."""
        ...

    @property
    def due(self) -> str | None:
        """The next due date (YYYY-MM-DD), if the record sets one."""
        ...


class GaugeAsset(BaseModel):
    """One physical measuring instrument configured at this station (ISO 9001 7.1.5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asset: Annotated[str, Field(min_length=1, max_length=40)]
    """Asset id on the gauge's calibration label, e.g. CAL-0042."""
    profile: Annotated[str, Field(min_length=1)]
    """Gauge profile name (a file in gauges/ without .toml)."""
    port: Annotated[str, Field(min_length=1)]
    """Device path, pyserial URL, /dev/serial/by-id/... or usb:VID:PID[:SERIAL]."""
    channel: int | None = None
    """Multiplexer channel that carries this asset's readings, if any."""
    unit: str | None = None
    """Unit of the readings when the frame carries none (mm, in, um, deg)."""
    resolution: str | None = None
    """Resolution of the instrument, e.g. 0.001, when the frame does not show it."""
    gauge_type: str | None = None
    """Type of instrument (caliper, micrometer, indicator, ...) matched against the spec."""
    description: str = ""
    """Free text shown to the inspector."""
    serial_number: Annotated[str, Field(min_length=1)]
    """Manufacturer's serial number of the instrument."""
    certificate: Annotated[str, Field(min_length=1)]
    """Number of the current calibration certificate."""
    calibrated_on: dt.date
    """Date of the last calibration."""
    calibration_due: dt.date
    """Date by which the instrument must be calibrated again; unusable after it."""
    _failed: tuple[dt.date, str] | None = PrivateAttr(default=None)
    """Date and certificate of a failed calibration recorded after the last good one."""

    @field_validator("asset", "serial_number", "certificate", "gauge_type", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        return field_text(value, identifier=True, max_length=64)

    @field_validator("profile", "port", "description", mode="before")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        return field_text(value, max_length=500)

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        unit = normalize_unit(value)
        if unit is None:
            raise ValueError(f"unknown unit {value!r}; expected one of {', '.join(KNOWN_UNITS)}")
        return unit

    @field_validator("resolution", mode="before")
    @classmethod
    def _resolution_text(cls, value: object) -> object:
        return None if value is None else str(value)

    @model_validator(mode="after")
    def _dates_in_order(self) -> GaugeAsset:
        if self.calibration_due < self.calibrated_on:
            raise ValueError("calibration_due is before calibrated_on")
        return self

    def calibration_status(
        self, today: dt.date | None = None, warn_days: int = 14
    ) -> CalibrationStatus:
        """OK, DUE (within ``warn_days``) or OVERDUE (after the due date) on ``today``."""
        if self._failed is not None:
            return CalibrationStatus.FAILED
        today = today or dt.date.today()
        if today > self.calibration_due:
            return CalibrationStatus.OVERDUE
        if (self.calibration_due - today).days <= warn_days:
            return CalibrationStatus.DUE
        return CalibrationStatus.OK

    def in_force(self, latest: RecordedCalibration | None) -> GaugeAsset:
        """This asset as its latest recorded calibration leaves it.

        A calibration recorded in the journal (``gauges calibrate``) on or after station.toml's
        ``calibrated_on`` is the one in force: a pass brings its certificate and due date, a
        fail takes the asset out of use until a passing calibration is recorded. An older
        record, or none, leaves station.toml's facts as they are.
        """
        if latest is None:
            return self
        try:
            on = dt.date.fromisoformat(latest.calibrated_on)
            due = dt.date.fromisoformat(latest.due) if latest.due else None
        except ValueError:
            return self
        if on < self.calibrated_on:
            return self
        if latest.result == CalibrationResult.FAIL:
            failed = self.model_copy()
            failed._failed = (on, latest.certificate)
            return failed
        update: dict[str, object] = {"certificate": latest.certificate, "calibrated_on": on}
        if due is not None:
            update["calibration_due"] = due
        elif self.calibration_due < on:
            update["calibration_due"] = on
        return self.model_copy(update=update)

    def require_calibrated(self, today: dt.date | None = None) -> None:
        """Raise CalibrationExpired if this asset is overdue or failed and may not be used."""
        if self._failed is not None:
            on, certificate = self._failed
            raise CalibrationExpired(
                f"Gauge {self.asset} (serial {self.serial_number}) failed its calibration on "
                f"{on.isoformat()} (certificate {certificate}) and cannot be used until a "
                "passing calibration is recorded."
            )
        if self.calibration_status(today) is CalibrationStatus.OVERDUE:
            raise CalibrationExpired(
                f"Gauge {self.asset} (serial {self.serial_number}) was due for calibration on "
                f"{self.calibration_due.isoformat()} and cannot be used until it is recalibrated."
            )

    def trace(self) -> dict[str, str]:
        """The asset facts every measurement it feeds records."""
        return {
            "asset": self.asset,
            "serial_number": self.serial_number,
            "certificate": self.certificate,
            "calibration_due": self.calibration_due.isoformat(),
        }


class StationConfig(BaseModel):
    """The whole station.toml, with defaults that run the station embedded."""

    model_config = ConfigDict(extra="forbid")

    format: int = 1
    """Format version of this file."""
    station: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")] = (
        Field(default_factory=lambda: socket.gethostname() or "station")
    )
    """Station id written into every record (default: the host name)."""
    organisation: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    """The organisation that inspects (named in QIF exports and on AS9102 first-article forms)."""
    db: Path | None = None
    """Local SQLite record (default: station.db in the user's data directory)."""
    central: str | None = None
    """Central store URL: sqlite:///path or postgresql://... (default: a SQLite file)."""
    specs: list[Path] = Field(default_factory=list)
    """Folders or files of part specs (default: the shipped demo specs)."""
    gauge_profiles: list[Path] = Field(default_factory=list)
    """Extra folders of gauge profiles, searched before the shipped ones."""
    calibration_warning_days: Annotated[int, Field(ge=0, le=365)] = 14
    """How many days before its due date a gauge is shown as due for calibration."""
    defect_codes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_DEFECT_CODES))
    """Defect codes offered when a part is rejected: code -> description."""
    idle_timeout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    """Minutes of inactivity after which the station signs the inspector out."""
    second_signer: list[str] | None = None
    """Dispositions complete only with a second supervisor's signature, e.g. ["use-as-is",
    "repair", "regrade"]; [] for none (default: use-as-is and repair)."""
    gauge: list[GaugeAsset] = Field(default_factory=list)
    """Gauge assets connected to this station."""
    spc: StationSpc = Field(default_factory=StationSpc)
    """SPC defaults (chart, baseline, rules) and the alarm answer codes (``[spc]``)."""
    source: Path | None = Field(default=None, exclude=True)
    """File the configuration was read from (None for built-in defaults)."""

    @field_validator("format")
    @classmethod
    def _format_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"unsupported format {value}; this version reads format 1")
        return value

    @field_validator("defect_codes")
    @classmethod
    def _defect_texts(cls, value: dict[str, str]) -> dict[str, str]:
        return {
            field_text(code, identifier=True, max_length=20): field_text(text, max_length=200)
            for code, text in value.items()
        }

    @field_validator("second_signer")
    @classmethod
    def _known_dispositions(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        try:
            return list(dict.fromkeys(parse_disposition(kind).value for kind in value))
        except DispositionError as exc:
            raise ValueError(exc.message.rstrip(".")) from None

    @model_validator(mode="after")
    def _unique_assets(self) -> StationConfig:
        seen: set[str] = set()
        for asset in self.gauge:
            if asset.asset in seen:
                raise ValueError(f"gauge asset {asset.asset!r} is listed twice")
            seen.add(asset.asset)
        return self

    @property
    def db_path(self) -> Path:
        """The local SQLite record's path."""
        return self.db or locations.default_db_path()

    @property
    def central_url(self) -> str:
        """The central store URL, defaulting to the embedded SQLite file."""
        return self.central or f"sqlite:///{locations.default_central_path()}"

    @property
    def spec_paths(self) -> list[Path]:
        """Where part specs are loaded from."""
        return self.specs or [locations.shipped_specs_dir()]

    @property
    def profile_paths(self) -> list[Path]:
        """Where gauge profiles are looked up, first match wins."""
        return [*self.gauge_profiles, locations.shipped_gauges_dir()]

    def asset(self, asset_id: str) -> GaugeAsset:
        """The configured gauge asset with id ``asset_id``; ConfigError if there is none."""
        for asset in self.gauge:
            if asset.asset == asset_id:
                return asset
        known = ", ".join(a.asset for a in self.gauge) or "none configured"
        raise ConfigError(f"No gauge asset {asset_id!r} at this station (known: {known}).")


def load_config(path: Path | str | None = None) -> StationConfig:
    """Load station.toml from ``path``, the environment or the config dir; defaults if absent."""
    explicit = path is not None
    p = Path(path) if path is not None else locations.default_config_path()
    if not p.exists():
        if explicit:
            raise ConfigError(f"Configuration file {p} does not exist.")
        return StationConfig()
    try:
        data, text = read_toml(p)
    except TomlFileError as exc:
        raise ConfigError(exc.problems[0]) from None
    try:
        config = StationConfig.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(p, text, exc)
        raise ConfigError(problems[0]) from None
    base = p.parent
    config.source = p
    # Relative paths in the file are relative to the file, not to the working directory.
    if config.db is not None and not config.db.is_absolute():
        config.db = base / config.db
    config.specs = [s if s.is_absolute() else base / s for s in config.specs]
    config.gauge_profiles = [g if g.is_absolute() else base / g for g in config.gauge_profiles]
    return config
