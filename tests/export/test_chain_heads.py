"""Every export and its manifest print the chain head (seq and hash): a paper anchor.

What is printed is what ``verify --anchor SEQ:HASH`` takes, so a certificate filed away shows,
years later, whether the station's chain still holds that record unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from lots import RecordedLot

from inspect_station.cli import main
from inspect_station.export.lot import FORMATS
from inspect_station.store import journal as jn


def cli(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def printed_heads(fmt: str, path: Path) -> set[tuple[str, int, str]]:
    """(station, seq, hash or its first 16 hex digits) of every head printed in an export."""
    data = path.read_bytes()
    if fmt == "csv":
        rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        return {(r["record_station"], int(r["chain_head_seq"]), r["chain_head_hash"]) for r in rows}
    if fmt == "json":
        heads = json.loads(data)["source"]["heads"]
        return {(h["station"], h["seq"], h["hash"]) for h in heads}
    if fmt == "qif":
        heads = ET.fromstring(data).iter("{urn:inspect-station:qif:1}ChainHead")
        return {(h.get("station"), int(h.get("seq")), h.get("hash")) for h in heads}
    if fmt == "dfq":
        (remark,) = re.findall(r"^K1900 chain heads (.*)$", data.decode("cp1252"), flags=re.M)
        found = re.findall(r"(\S+) (\d+):([0-9a-f]{16,64})", remark.strip())
        return {(station, int(seq), hash_) for station, seq, hash_ in found}
    text = data.decode("utf-8")
    cells = re.findall(
        r'<tr><td>([^<]+)</td><td><span class="(?:pass|fail)">\w+</span></td>'
        r'<td class="num">\d+</td><td class="num">(\d+)</td>'
        r'<td><span class="hash">([0-9a-f]{64})</span>',
        text,
    )
    return {(station, int(seq), hash_) for station, seq, hash_ in cells}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_and_its_manifest_print_the_head_verify_anchor_takes(
    lot7: RecordedLot, tmp_path: Path, fmt: str
):
    store = lot7.store
    seq, hash_ = store.head()
    out = tmp_path / f"L-7.{fmt}"
    result = cli(
        "export", "lot", "L-7", "--format", fmt, "--out", str(out), "--db", str(store.path)
    )
    assert result.exit_code == 0, result.output
    heads = printed_heads(fmt, out)
    assert heads and all(h[:2] == ("TEST-1", seq) and hash_.startswith(h[2]) for h in heads)
    manifest = out.with_name(out.name + ".sha256").read_text()
    assert f"# chain head TEST-1: seq {seq}, sha256 {hash_}\n" in manifest
    ((_, printed_seq, printed_hash),) = heads
    anchored = cli("verify", "--db", str(store.path), "--anchor", f"{printed_seq}:{printed_hash}")
    assert anchored.exit_code == 0 and f"printed head seq {seq}: OK" in anchored.output


def test_a_printed_head_shows_a_chain_edited_and_rehashed_since(lot7: RecordedLot, tmp_path: Path):
    store, path = lot7.store, lot7.store.path
    out = tmp_path / "L-7.html"
    exported = cli("export", "lot", "L-7", "--format", "html", "--out", str(out), "--db", str(path))
    assert exported.exit_code == 0
    ((_, seq, hash_),) = printed_heads("html", out)
    store.close()
    # Edit the first measurement's value and re-hash every record after it, as an insider
    # holding the only copy could: the chain itself verifies again.
    conn = sqlite3.connect(path, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        conn.execute(f"DROP TRIGGER {name}")
    rows = conn.execute(
        "SELECT station, seq, uuid, kind, ts, prev_hash, body FROM journal ORDER BY seq"
    ).fetchall()
    prev, edited = jn.GENESIS, False
    for station, s, uuid, kind, ts, _, body in rows:
        body = json.loads(body)
        if kind == "measurement" and not edited:
            body["value"], edited = "40.00", True
            conn.execute("UPDATE measurements SET value = '40.00' WHERE seq = ?", (s,))
        record = jn.make_record(
            station=station, seq=s, kind=kind, body=body, prev_hash=prev, record_uuid=uuid, ts=ts
        )
        conn.execute(
            "UPDATE journal SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (jn.canonical_body(body), record["prev_hash"], record["hash"], s),
        )
        prev = record["hash"]
    conn.close()
    # The checkpoint the export's verification recorded (in this user's data folder) sees it...
    checked = cli("verify", "--db", str(path))
    assert checked.exit_code == 1 and "edited and re-hashed" in checked.output
    # ...the chain alone cannot (a copy on another machine has no checkpoint):
    assert cli("verify", "--db", str(path), "--reset-checkpoint").exit_code == 0
    anchored = cli("verify", "--db", str(path), "--anchor", f"{seq}:{hash_}")
    assert anchored.exit_code == 1
    assert f"printed head seq {seq}: BROKEN" in anchored.output
    assert "the chain was edited and re-hashed" in anchored.output


@pytest.mark.parametrize("anchor", ["12", "12:", "x:0123456789abcdef", "12:0123", "12:zz" * 8])
def test_a_malformed_anchor_is_one_sentence(lot7: RecordedLot, anchor: str):
    result = CliRunner().invoke(main, ["verify", "--db", str(lot7.store.path), "--anchor", anchor])
    assert result.exit_code == 2 and "is not SEQ:HASH" in result.output
    assert "Traceback" not in result.output
