"""Every filesystem location the station uses, in one place."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import platformdirs

APP_NAME = "inspect-station"
CONFIG_ENV = "INSPECT_STATION_CONFIG"
DATA_ENV = "INSPECT_STATION_DATA"


def config_dir() -> Path:
    """Directory of the station configuration (platform convention)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Directory of the station's data files; ``$INSPECT_STATION_DATA`` overrides it."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    """Path of station.toml when neither --config nor the environment names one."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return config_dir() / "station.toml"


def default_db_path() -> Path:
    """Path of the local SQLite record when the configuration names none."""
    return data_dir() / "station.db"


def verify_state_path() -> Path:
    """Path of the file of verified checkpoints (where each record was last verified)."""
    return data_dir() / "verify-state.db"


def default_central_path() -> Path:
    """Path of the embedded central store (a SQLite file) when none is configured."""
    return data_dir() / "central.db"


def _installed_dir(name: str) -> Path | None:
    """The folder the installed package ships ``name`` in (a wheel puts it in the package)."""
    try:
        spec = importlib.util.find_spec(f"inspect_station.shipped.{name}")
    except ModuleNotFoundError:
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if Path(location).is_dir():
            return Path(location)
    return None


def _source_checkout_dir(name: str) -> Path | None:
    """The top-level folder ``name`` when the code runs from a source checkout, else None."""
    root = Path(__file__).resolve().parents[2]
    candidate = root / name
    if (root / "pyproject.toml").is_file() and (root / "src").is_dir() and candidate.is_dir():
        return candidate
    return None


def shipped_dir(name: str) -> Path:
    """Directory of the files shipped with the station: ``specs`` or ``gauges``.

    Where the installed package carries them; a source checkout's top-level folder only when the
    package itself has none (an editable install or ``src`` on the path), so a wheel without its
    data fails here instead of quietly reading the checkout.
    """
    installed = _installed_dir(name)
    if installed is not None:
        return installed
    checkout = _source_checkout_dir(name)
    if checkout is not None:
        return checkout
    # Not shipped: the path it should be at, which the caller reports as missing.
    return Path(__file__).resolve().parent / "shipped" / name


def shipped_specs_dir() -> Path:
    """Directory of the demo part specs shipped with the station."""
    return shipped_dir("specs")


def shipped_gauges_dir() -> Path:
    """Directory of the gauge profiles shipped with the station."""
    return shipped_dir("gauges")
