"""Allow ``python -m inspect_station``."""

from inspect_station.cli import main

main()
