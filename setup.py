"""Which packages the wheel holds; everything else about the project is in pyproject.toml.

The code's packages are found under src/ (never listed by hand, so a new sub-package cannot be
left out of the wheel). The shipped part specs and gauge profiles live at the top of the
repository (specs/, gauges/: data that quality engineers review) and are installed inside the
package as ``inspect_station.shipped.specs`` and ``inspect_station.shipped.gauges``.
pyproject.toml cannot say "found packages plus these two mapped folders", hence this file.
"""

from setuptools import find_packages, setup

SHIPPED = {"inspect_station.shipped.specs": "specs", "inspect_station.shipped.gauges": "gauges"}

setup(
    packages=[*find_packages(where="src"), *SHIPPED],
    package_dir={"": "src", **SHIPPED},
)
