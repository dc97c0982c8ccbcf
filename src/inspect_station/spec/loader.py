"""Loading part specs from TOML files, with file:line errors, into a library of revisions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from inspect_station.errors import SpecError, UnknownSpec
from inspect_station.spec.model import PartSpec, Status
from inspect_station.tomlfile import TomlFileError, read_toml, validation_problems


def load_spec(path: Path | str) -> PartSpec:
    """Load and validate one spec file; SpecError carries every problem as file:line: message.

    Whatever the file holds, the only exception is SpecFileError: a hostile file must never
    take the station down with it.
    """
    p = Path(path)
    try:
        data, text = read_toml(p)
    except TomlFileError as exc:
        raise SpecFileError(exc.problems) from None
    try:
        spec = PartSpec.model_validate(data)
        spec.content_hash  # noqa: B018 -- computed now, so a file that cannot be hashed is refused
    except ValidationError as exc:
        raise SpecFileError(validation_problems(p, text, exc)) from None
    except (ValueError, ArithmeticError, RecursionError, TypeError) as exc:
        # A check the model does not make yet: still one sentence naming the file.
        problem = f"{p}: cannot be read as a part spec ({type(exc).__name__})"
        raise SpecFileError([problem]) from None
    return spec


class SpecFileError(SpecError):
    """A spec file is invalid; ``problems`` lists each error as ``file:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if len(problems) == 1 else f"{problems[0]} (and more)")
        self.problems = problems


def spec_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand folders to their *.toml files (sorted); keep files as given."""
    out: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            out.extend(sorted(p.glob("*.toml")))
        else:
            out.append(p)
    return out


def revision_key(revision: str) -> tuple[int, tuple[int | str, ...]]:
    """Order drawing revisions: A < B < ... < Z < AA, 1 < 2 < 10."""
    parts = tuple(int(t) if t.isdigit() else t for t in re.findall(r"\d+|\D+", revision.upper()))
    return (len(revision), parts)


@dataclass
class SpecLibrary:
    """All spec revisions known to the station, keyed by part number and revision."""

    specs: dict[tuple[str, str], PartSpec] = field(default_factory=dict)
    """(part number, revision) -> spec."""
    sources: dict[tuple[str, str], Path] = field(default_factory=dict)
    """(part number, revision) -> file it was loaded from."""
    problems: list[str] = field(default_factory=list)
    """Problems found while loading (invalid files are left out of the library)."""

    @classmethod
    def load(cls, paths: Iterable[Path | str]) -> SpecLibrary:
        """Load every spec file under ``paths``; invalid files are reported in ``problems``."""
        lib = cls()
        for path in spec_files(paths):
            try:
                spec = load_spec(path)
            except SpecFileError as exc:
                lib.problems.extend(exc.problems)
                continue
            key = (spec.part_number, spec.revision)
            if key in lib.specs:
                lib.problems.append(
                    f"{path}: {spec.part_number} revision {spec.revision} is already defined "
                    f"in {lib.sources[key]}"
                )
                continue
            lib.specs[key] = spec
            lib.sources[key] = path
        return lib

    def revisions(self, part_number: str) -> list[PartSpec]:
        """Every revision of a part, oldest first."""
        found = [s for (pn, _), s in self.specs.items() if pn == part_number]
        return sorted(found, key=lambda s: revision_key(s.revision))

    def released(self) -> list[PartSpec]:
        """Every released revision, by part number."""
        out = [s for s in self.specs.values() if s.status is Status.RELEASED]
        return sorted(out, key=lambda s: (s.part_number, revision_key(s.revision)))

    def get(self, ref: str, *, released_only: bool = True) -> PartSpec:
        """Spec for ``PART`` (latest released revision) or ``PART@REV``; UnknownSpec if none."""
        part, _, rev = ref.partition("@")
        part, rev = part.strip(), rev.strip()
        revisions = self.revisions(part)
        if not revisions:
            known = ", ".join(sorted({pn for pn, _ in self.specs})) or "none loaded"
            raise UnknownSpec(f"No spec for part {part!r} (known parts: {known}).")
        if rev:
            for spec in revisions:
                if spec.revision == rev:
                    if released_only and spec.status is not Status.RELEASED:
                        raise UnknownSpec(
                            f"Part {part} revision {rev} is {spec.status.value}, not released, "
                            "and cannot be inspected."
                        )
                    return spec
            have = ", ".join(s.revision for s in revisions)
            raise UnknownSpec(f"Part {part} has no revision {rev!r} (revisions: {have}).")
        candidates = (
            [s for s in revisions if s.status is Status.RELEASED] if released_only else (revisions)
        )
        if not candidates:
            raise UnknownSpec(f"Part {part} has no released revision.")
        return candidates[-1]

    def previous(self, spec: PartSpec) -> PartSpec | None:
        """The revision of the same part just before ``spec`` (any status), if any."""
        revisions = self.revisions(spec.part_number)
        index = next(i for i, s in enumerate(revisions) if s.revision == spec.revision)
        return revisions[index - 1] if index > 0 else None

    def by_hash(self, content_hash: str) -> PartSpec | None:
        """The loaded spec whose content hash is ``content_hash``, if any."""
        for spec in self.specs.values():
            if spec.content_hash == content_hash:
                return spec
        return None
