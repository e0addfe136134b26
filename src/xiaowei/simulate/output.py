"""What a renderer returns and how a run is written (输出).

A renderer is a function ``render(chunk) -> Rendered``. Its frames are written under the run's
folder, one Parquet file per chunk (``<table>/part-00000.parquet``), so a table of any size
streams to disk chunk by chunk and reads back with ``polars.scan_parquet("<table>/*.parquet")``.
Truth tables go under ``truth/``, documents (credit reports) to JSON Lines files
(``<name>/part-00000.jsonl``, one document per line).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl


@dataclass(slots=True)
class Rendered:
    """Frames and documents rendered for one chunk.

    ``tables``: observable frames by table path (``"statements/transactions"``);
    ``truth``: ground-truth frames by table path (written under ``truth/``);
    ``documents``: JSON documents by collection path (``"credit_reports/personal"``).
    """

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    truth: dict[str, pl.DataFrame] = field(default_factory=dict)
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def merge(self, other: Rendered) -> Rendered:
        for mine, theirs in (
            (self.tables, other.tables),
            (self.truth, other.truth),
            (self.documents, other.documents),
        ):
            for key, value in theirs.items():
                if key in mine:
                    raise ValueError(f"two renderers produced {key}")
                mine[key] = value  # type: ignore[assignment]
        return self


def part_name(index: int, suffix: str) -> str:
    return f"part-{index:05d}.{suffix}"


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """Write one Parquet part atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp, compression="zstd", statistics=True)
    tmp.replace(path)


def write_documents(docs: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
            fh.write("\n")
    tmp.replace(path)


def write_chunk(out: Path, index: int, rendered: Rendered) -> dict[str, int]:
    """Write a chunk's frames and documents; returns row counts by table."""
    counts: dict[str, int] = {}
    for name, frame in rendered.tables.items():
        write_frame(frame, out / name / part_name(index, "parquet"))
        counts[name] = frame.height
    for name, frame in rendered.truth.items():
        write_frame(frame, out / "truth" / name / part_name(index, "parquet"))
        counts[f"truth/{name}"] = frame.height
    for name, docs in rendered.documents.items():
        write_documents(docs, out / name / part_name(index, "jsonl"))
        counts[name] = len(docs)
    return counts


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_table(out: Path, name: str) -> pl.DataFrame:
    """Read a whole table of a run (all its parts)."""
    folder = out / name
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        raise FileNotFoundError(f"no table {name} under {out}")
    return pl.concat([pl.read_parquet(p) for p in parts], how="vertical")


def read_documents(out: Path, name: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for part in sorted((out / name).glob("part-*.jsonl")):
        with part.open(encoding="utf-8") as fh:
            docs.extend(json.loads(line) for line in fh if line.strip())
    return docs
