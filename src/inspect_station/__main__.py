"""Allow ``python -m inspect_station``."""

from inspect_station.cli import main

if __name__ == "__main__":
    main()
