"""sqlite-utils, imported without loading numpy.

sqlite-utils imports numpy when it is installed (to map numpy scalar types to columns), which
would load numpy at every station start and ``--help`` (a quarter of a second and tens of
megabytes). The store writes text and integers only, never numpy scalars, so sqlite-utils is
imported here with numpy hidden; numpy stays importable by the code that needs it (the SPC
report's bulk path).
"""

from __future__ import annotations

import sys

_hidden = "numpy" not in sys.modules
if _hidden:
    sys.modules["numpy"] = None  # type: ignore[assignment]
try:
    import sqlite_utils  # noqa: F401
finally:
    if _hidden and sys.modules.get("numpy", 0) is None:
        del sys.modules["numpy"]
