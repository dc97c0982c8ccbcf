"""Exporting a lot: its record (``export.model``) written in a registered format
(``export.formats``), atomically, next to a SHA-256 manifest.

The names a caller needs to export a lot are all here: ``load_lot``, ``export_lot``,
``write_export``, ``manifest_text``, ``ExportOptions``, ``ExportError`` and ``FORMATS``.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from inspect_station import __version__
from inspect_station.export.formats import HashingWriter, names, writer_for
from inspect_station.export.model import (
    ExportError,
    ExportOptions,
    InspectionData,
    LotData,
    LotDecisionInfo,
    load_lot,
)
from inspect_station.records import RecordSource
from inspect_station.store import LocalStore
from inspect_station.text import TextError, check_line, printable

FORMATS: tuple[str, ...] = names()
"""Export formats, by the name ``--format`` takes; the file extension is the same."""

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "HashingWriter",
    "InspectionData",
    "LotData",
    "LotDecisionInfo",
    "export_lot",
    "load_lot",
    "manifest_text",
    "write_export",
    "writer_for",
]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    path: Path | None
    """The export file (None when written to a stream)."""
    manifest_path: Path | None
    """Its SHA-256 manifest file (None when written to a stream)."""
    sha256: str
    """SHA-256 of the export's bytes."""
    size: int
    """Its size in bytes."""
    manifest: str
    """The manifest text."""
    data: LotData
    """What was exported."""


def manifest_text(data: LotData, fmt: str, name: str, sha256: str, size: int) -> str:
    """A sha256sum-compatible manifest: comment lines describing the export, then the hash.

    Every text that comes from the record is shown with :func:`printable`, so the manifest
    never carries a terminal escape, whatever a record holds.
    """
    lines = [
        "# inspect-station lot export manifest (check with: sha256sum -c THIS-FILE)",
        f"# lot: {data.lot}; part {data.spec.part_number} revision {data.spec.revision}; "
        f"spec sha256 {data.spec_hash}",
        f"# format: {fmt}; {size} bytes; {data.measurement_count} measurement records",
        f"# source: {data.source.kind}: {data.source.description}",
        f"# generated: {data.generated_at} by inspect-station {__version__}",
        f"# lot decision: {data.decision.decision}",
    ]
    for station, seq, hash_ in data.heads:
        lines.append(f"# chain head {station}: seq {seq}, sha256 {hash_}")
    if data.verification is None:
        lines.append("# chains: NOT VERIFIED")
    for check in data.verification or []:
        lines.append(f"# chain {check.summary()}")
    lines = [printable(line) for line in lines]
    if "\\" in name:
        # sha256sum's own escape: a leading backslash, then '\\' for each backslash.
        lines.append(f"\\{sha256}  {name.replace(chr(92), chr(92) * 2)}")
    else:
        lines.append(f"{sha256}  {name}")
    return "\n".join(lines) + "\n"


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


def _check_target(target: Path, force: bool) -> None:
    """Refuse to overwrite ``target`` unless ``force``; even then, only a regular file."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ExportError(f"{printable(str(target))} cannot be checked: {exc.strerror}.") from None
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise ExportError(
            f"{printable(str(target))} is {kind}; an export replaces only a regular file."
        )
    if not force:
        raise ExportError(f"{printable(str(target))} already exists; give --force to overwrite it.")


def _replace_with(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file next to ``path`` and move it into place atomically (never half a file, and
    never through a link or into a device); ExportError with the reason if it cannot be."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"Cannot write to {path.parent}: {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as raw:
            write(raw)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"Cannot write {printable(str(path))}: {exc.strerror}.") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_export(data: LotData, fmt: str, raw: IO[bytes], options: ExportOptions) -> HashingWriter:
    """Write the export of ``data`` in ``fmt`` to a binary stream; returns its hash state."""
    out = HashingWriter(raw)
    writer_for(fmt)(data, out, options)
    out.flush()
    return out


def export_lot(
    source: RecordSource,
    lot: str,
    fmt: str,
    path: Path,
    options: ExportOptions | None = None,
    *,
    writer: LocalStore | None = None,
) -> ExportResult:
    """Export a lot to ``path`` (atomically) and write ``path.sha256`` next to it."""
    path = Path(path)
    try:
        check_line(path.name, "output file name", max_length=255)
    except TextError as exc:
        raise ExportError(exc.message) from None
    options = dataclasses.replace(options or ExportOptions(), file_name=path.name)
    writer_fn = writer_for(fmt)
    manifest_path = path.with_name(path.name + ".sha256")
    for target in (path, manifest_path):
        _check_target(target, options.force)
    if not path.parent.is_dir():
        raise ExportError(f"The folder {printable(str(path.parent))} does not exist.")
    data = load_lot(source, lot, verify=options.verify, writer=writer)
    state: list[HashingWriter] = []

    def write_body(raw: IO[bytes]) -> None:
        out = HashingWriter(raw)
        writer_fn(data, out, options)
        state.append(out)

    _replace_with(path, write_body)
    out = state[0]
    sha = out.sha256.hexdigest()
    manifest = manifest_text(data, fmt, path.name, sha, out.size)

    def write_manifest(raw: IO[bytes]) -> None:
        raw.write(manifest.encode("utf-8"))

    _replace_with(manifest_path, write_manifest)
    return ExportResult(path, manifest_path, sha, out.size, manifest, data)
