"""Model artefacts (模型文件): one versioned folder per fitted model, loaded back identically.

Layout (``xiaowei.model/1``)::

    MODEL/
      manifest.json   format, kind, name, version, created, features, target, the training
                      data's row count and SHA-256, metrics, library versions, and the SHA-256
                      of every other file
      scorecard.json  kind "scorecard": Scorecard.to_json() (bins, points, scaling)
      model.txt       kind "lightgbm": the booster in LightGBM's own text format
      gbm.json        kind "lightgbm": everything else GradientBoosting needs (bins, categories,
                      monotone constraints), without the booster
      calibration.json  optional: the PD calibrator (score or raw probability → PD) and the
                      master scale (PD → grade), when the model was saved with them

The folder is written beside its destination and renamed into place (a reader never sees half
an artefact); an existing artefact is replaced only when asked. Loading checks the format and
every file's hash, so an edited or truncated file is refused with a clear error rather than
scoring with a different model. The training-data hash is the SHA-256 of the frame and target
in Arrow IPC form: the same data gives the same hash under the same Polars version.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from xiaowei.core.errors import InvalidInput
from xiaowei.scoring.calibration import Calibrator, MasterScale
from xiaowei.scoring.gbm import GradientBoosting
from xiaowei.scoring.scorecard import Scorecard

FORMAT = "xiaowei.model/1"
Model = Scorecard | GradientBoosting
_LIBRARIES = ("xiaowei", "numpy", "polars", "scikit-learn", "lightgbm")


@dataclass(frozen=True)
class Artefact:
    """A loaded artefact: the model and its manifest."""

    model: Model
    manifest: dict[str, Any]
    calibrator: Calibrator | None = None
    master_scale: MasterScale | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_hash(frame: pl.DataFrame, target: np.ndarray | pl.Series | None = None) -> str:
    """SHA-256 of the training frame (and target) in Arrow IPC form."""
    table = frame if target is None else frame.with_columns(pl.Series("__target__", target))
    buffer = io.BytesIO()
    table.write_ipc(buffer, compression="uncompressed")
    return _sha256(buffer.getvalue())


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _files(model: Model) -> tuple[str, dict[str, bytes]]:
    if isinstance(model, Scorecard):
        return "scorecard", {"scorecard.json": model.to_json(indent=1).encode("utf-8")}
    if isinstance(model, GradientBoosting):
        doc = json.loads(model.to_json())
        booster = str(doc.pop("model"))
        return "lightgbm", {
            "model.txt": booster.encode("utf-8"),
            "gbm.json": json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"),
        }
    raise InvalidInput(
        "model", f"cannot save a {type(model).__name__}: Scorecard or GradientBoosting"
    )


def save_model(
    model: Model,
    path: Path,
    *,
    name: str,
    version: int = 1,
    target: str = "default_12m",
    training: pl.DataFrame | None = None,
    training_target: np.ndarray | pl.Series | None = None,
    metrics: dict[str, Any] | None = None,
    calibrator: Calibrator | None = None,
    master_scale: MasterScale | None = None,
    setup: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``model`` as an artefact folder at ``path``; returns the manifest.

    ``calibrator`` and ``master_scale`` go to ``calibration.json``; ``setup`` (how the model
    was fitted: split, seed, columns, options) goes into the manifest as it is."""
    if version < 1:
        raise InvalidInput("version", "must be a positive integer")
    if not name.strip():
        raise InvalidInput("name", "must not be empty")
    if path.exists() and not overwrite:
        raise InvalidInput("path", f"{path} exists (overwrite to replace it)")
    if path.exists() and not (path / "manifest.json").is_file():
        raise InvalidInput("path", f"{path} exists and is not a model artefact: not replaced")
    kind, files = _files(model)
    if calibrator is not None or master_scale is not None:
        files["calibration.json"] = json.dumps(
            {
                "calibrator": None if calibrator is None else calibrator.to_dict(),
                "master_scale": None if master_scale is None else master_scale.to_dict(),
            },
            ensure_ascii=False,
            indent=1,
        ).encode("utf-8")
    features = list(getattr(model, "features_", []))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "kind": kind,
        "name": name,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "features": features,
        "target": target,
        "training_data": None
        if training is None
        else {"rows": training.height, "sha256": data_hash(training, training_target)},
        "metrics": metrics or {},
        "setup": setup or {},
        "libraries": _versions(),
        "files": {file: _sha256(data) for file, data in files.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        for file, data in files.items():
            (staging / file).write_bytes(data)
        (staging / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            os.replace(path, old)
            os.replace(staging, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, path)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return manifest


def load_model(path: Path) -> Artefact:
    """Read an artefact written by :func:`save_model`, checking its format and hashes."""
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise InvalidInput("path", f"no model artefact at {path} (manifest.json missing)")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("manifest.json", f"not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("manifest.format", f"not a {FORMAT} artefact")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise InvalidInput("manifest.files", "no file list")
    data: dict[str, bytes] = {}
    for file, digest in files.items():
        source = path / str(file)
        if not source.is_file():
            raise InvalidInput(f"files.{file}", f"{source} is missing")
        data[file] = source.read_bytes()
        if _sha256(data[file]) != digest:
            raise InvalidInput(f"files.{file}", "SHA-256 differs from the manifest: file changed")
    kind = manifest.get("kind")
    model: Model
    if kind == "scorecard":
        model = Scorecard.from_json(data["scorecard.json"])
    elif kind == "lightgbm":
        doc = json.loads(data["gbm.json"])
        doc["model"] = data["model.txt"].decode("utf-8")
        model = GradientBoosting.from_json(json.dumps(doc, ensure_ascii=False))
    else:
        raise InvalidInput("manifest.kind", f"unknown model kind {kind!r}")
    calibrator = master_scale = None
    if "calibration.json" in data:
        try:
            doc = json.loads(data["calibration.json"])
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput("calibration.json", f"not JSON: {exc}") from exc
        if doc.get("calibrator") is not None:
            calibrator = Calibrator.from_dict(doc["calibrator"])
        if doc.get("master_scale") is not None:
            master_scale = MasterScale.from_dict(doc["master_scale"])
    return Artefact(
        model=model, manifest=manifest, calibrator=calibrator, master_scale=master_scale
    )


__all__ = ["FORMAT", "Artefact", "data_hash", "load_model", "save_model"]
