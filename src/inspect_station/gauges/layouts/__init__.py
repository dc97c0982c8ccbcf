"""Frame layouts of gauge families, one module each; importing this package registers them all.

A gauge family whose frames no layout here reads is one new module in this folder: a
:class:`~inspect_station.gauges.codec.TextLayout` (ASCII frames) or
:class:`~inspect_station.gauges.codec.FrameLayout` (anything else) handed to
:func:`~inspect_station.gauges.codec.register_layout`. A profile names it with
``[frame] codec = "NAME"``; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil

from inspect_station.gauges.codec import LAYOUTS, FrameLayout

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def layout_names() -> list[str]:
    """The names of every registered layout, sorted."""
    return sorted(LAYOUTS)


def layout_named(name: str) -> FrameLayout:
    """The layout registered as ``name`` (KeyError if there is none)."""
    return LAYOUTS[name]
