"""The SPC core is pure: importing it loads no UI, no store, no numpy, no SQLite, no CLI."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("textual", "numpy", "scipy", "sqlite3", "sqlite_utils", "click", "psycopg", "serial")


def test_importing_and_using_the_spc_core_loads_nothing_from_the_outside():
    code = (
        "import sys\n"
        "from decimal import Decimal\n"
        "from inspect_station.spc import RuleSet, capability, in_control_arl\n"
        "capability(['1.0', '1.2', '1.1'], lower=Decimal('0'), upper=Decimal('2'), digits=3)\n"
        "in_control_arl(RuleSet(preset='western-electric', range_chart=False))\n"
        f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
