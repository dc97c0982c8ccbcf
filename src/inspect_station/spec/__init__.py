"""Part specs: models, loading and logical checks."""

from inspect_station.spec.loader import SpecFileError, SpecLibrary, load_spec
from inspect_station.spec.model import (
    Characteristic,
    CharClass,
    DecisionRule,
    Kind,
    PartSpec,
    Rule,
    SamplingSpec,
    Status,
)

__all__ = [
    "CharClass",
    "Characteristic",
    "DecisionRule",
    "Kind",
    "PartSpec",
    "Rule",
    "SamplingSpec",
    "SpecFileError",
    "SpecLibrary",
    "Status",
    "load_spec",
]
