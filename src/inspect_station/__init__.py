"""inspect-station: shop-floor inspection data collector."""

from collections.abc import Callable, Mapping
from importlib import import_module
from sys import modules

__version__ = "0.1.0"


def imported_on_first_use(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """A package's module ``__getattr__`` (PEP 562): each public name in ``homes`` (name ->
    the submodule defining it) is imported when first asked for, then kept on the package."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{home}"), name)
        setattr(modules[package], name, value)
        return value

    return __getattr__
