"""Run the simulator (生成模拟机构): build the world, render every chunk, write the folder.

Layout of a run's folder (``docs/simulator.md`` describes every table)::

    manifest.json                       seed, configuration, counts, schema version, digests
    businesses/ owners/ parties/        observable, one Parquet part per chunk
    statements/accounts/ statements/transactions/
    pos/ ecommerce/ web/ workplace/     alternative data
    financials/...                      the officer's reconstructed statements (IPC)
    credit_reports/personal/*.jsonl     PBOC-style reports, one JSON document per line
    loans/...                           booked loans, schedules, repayments, outcomes
    leads/                              marketing leads
    exports/                            bank-export CSV/XLSX files (with --formats csv,xlsx)
    truth/...                           ground truth, never a feature

Chunks are rendered in worker processes (``workers``); each worker rebuilds the world from the
configuration (deterministic, a fraction of a second per 10,000 businesses) and writes its
parts itself, so memory is bounded by the chunks in flight, whatever the population.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from xiaowei.core.errors import InvalidInput
from xiaowei.simulate import behaviour, channels, credit_report, financials, leads, statements
from xiaowei.simulate.config import SCHEMA_VERSION, SimulationConfig
from xiaowei.simulate.output import Rendered, file_digest, write_chunk
from xiaowei.simulate.world import Chunk, World, build_world, chunk

FORMATS = ("parquet", "csv", "xlsx")
Renderer = Callable[[Chunk], Rendered]
RENDERERS: tuple[Renderer, ...] = (
    financials.render,
    statements.render,
    channels.render,
    credit_report.render,
    behaviour.render,
)


def core_tables(c: Chunk) -> Rendered:
    """The population's own frames for the chunk: observable and truth."""
    return Rendered(
        tables={"businesses": c.businesses, "owners": c.owners, "parties": c.parties},
        truth={
            "businesses": c.truth,
            "debts": c.debts,
            "timeline": c.timeline,
            "monthly_flows": c.monthly,
            "guarantee_edges": c.edges.filter(
                pl.col("borrower_id").is_in(pl.Series(c.ids).implode())
            ),
        },
    )


def render_chunk(c: Chunk, renderers: Sequence[Renderer] = RENDERERS) -> Rendered:
    out = core_tables(c)
    for render in renderers:
        out.merge(render(c))
    return out


@dataclass(frozen=True, slots=True)
class RunResult:
    out: Path
    counts: dict[str, int]
    manifest: dict[str, Any]


# --- worker processes -------------------------------------------------------------------------

_WORLD: World | None = None


def _init_worker(config_json: str) -> None:
    global _WORLD  # one world per worker process, built once
    _WORLD = build_world(SimulationConfig.model_validate_json(config_json))


def _render_and_write(args: tuple[int, np.ndarray, str, tuple[str, ...], int]) -> dict[str, int]:
    index, ids, out, formats, export_businesses = args
    assert _WORLD is not None
    return _write(_WORLD, index, ids, Path(out), formats, export_businesses)


def _write(
    world: World,
    index: int,
    ids: np.ndarray,
    out: Path,
    formats: Sequence[str],
    export_businesses: int,
) -> dict[str, int]:
    rendered = render_chunk(chunk(world, index, ids))
    counts = write_chunk(out, index, rendered)
    if "csv" in formats:
        for name, frame in rendered.tables.items():
            path = out / "csv" / name / f"part-{index:05d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.write_csv(path)
    bank_formats = tuple(f for f in formats if f in ("csv", "xlsx"))
    exported = rendered.tables["statements/accounts"].filter(
        pl.col("business_id") <= export_businesses
    )
    if bank_formats and exported.height:
        from xiaowei.simulate import exports

        exports.write_exports(
            out / "exports",
            exported,
            rendered.tables["statements/transactions"].filter(
                pl.col("business_id") <= export_businesses
            ),
            formats=bank_formats,
        )
    return counts


# --- the run ----------------------------------------------------------------------------------


def _check_out(out: Path, *, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InvalidInput("out", f"{out} is not empty; pass --overwrite to replace it")
        if not (out / "manifest.json").exists() and not (out / ".xiaowei-simulation").exists():
            raise InvalidInput("out", f"{out} is not a simulator folder; refusing to delete it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / ".xiaowei-simulation").write_text("in progress\n", encoding="utf-8")


def run(
    config: SimulationConfig,
    out: Path,
    *,
    formats: Iterable[str] = ("parquet",),
    workers: int | None = None,
    overwrite: bool = False,
    export_businesses: int = 100,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Generate the institution of ``config`` into ``out``; same config, same bytes.

    With ``csv`` or ``xlsx`` among ``formats``, every observable table is also written as CSV
    parts (``csv/<table>/``) and the statements of the first ``export_businesses`` businesses
    are written as real-looking bank exports (``exports/<fmt>/<account_id>.<fmt>``: three
    header layouts, GBK or UTF-8 with BOM, title lines and footers) for the importers to meet.
    """
    fmts = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    for f in fmts:
        if f not in FORMATS:
            raise InvalidInput("formats", f"unknown format {f!r}; choose from {', '.join(FORMATS)}")
    if "parquet" not in fmts:
        fmts = ("parquet", *fmts)
    _check_out(out, overwrite=overwrite)
    world = build_world(config)
    ids = world.population.businesses["business_id"].to_numpy()
    size = config.chunk_size
    jobs = [(i, ids[s : s + size]) for i, s in enumerate(range(0, len(ids), size))]
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 2)
    n_workers = max(1, min(n_workers, len(jobs)))
    counts: dict[str, int] = {}

    def add(part: dict[str, int]) -> None:
        for key, value in part.items():
            counts[key] = counts.get(key, 0) + value

    done = 0
    if n_workers == 1:
        for index, chunk_ids in jobs:
            add(_write(world, index, chunk_ids, out, fmts, export_businesses))
            done += 1
            if progress:
                progress(done, len(jobs))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(config.model_dump_json(),),
        ) as pool:
            args = [(i, chunk_ids, str(out), fmts, export_businesses) for i, chunk_ids in jobs]
            for part in pool.map(_render_and_write, args):
                add(part)
                done += 1
                if progress:
                    progress(done, len(jobs))
    lead_output = leads.draw_leads(world)
    add(write_chunk(out, 0, lead_output))
    manifest = _manifest(config, out, counts, fmts)
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / ".xiaowei-simulation").unlink()
    return RunResult(out, dict(sorted(counts.items())), manifest)


def _manifest(
    config: SimulationConfig, out: Path, counts: dict[str, int], formats: Sequence[str]
) -> dict[str, Any]:
    files = {
        str(p.relative_to(out)): file_digest(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in ("manifest.json", ".xiaowei-simulation")
    }
    tables = sorted({k for k in counts if not k.startswith("truth/")})
    return {
        "generator": "xiaowei.simulate",
        "schema_version": SCHEMA_VERSION,
        "seed": config.seed,
        "config": json.loads(config.model_dump_json()),
        "formats": list(formats),
        "counts": dict(sorted(counts.items())),
        "tables": tables,
        "truth": sorted(k for k in counts if k.startswith("truth/")),
        "files": files,
    }
