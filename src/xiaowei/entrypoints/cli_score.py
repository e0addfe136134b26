"""``xiaowei score …``: fit, report, apply and monitor scoring models (评分模型).

Registered on the main app at the end of ``cli.py``; the shared helpers of ``cli.py``
(``guarded``, the consoles, JSON printing) are imported when a command runs, so either module
may be imported first. The use cases are :mod:`xiaowei.services.scoring`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang, current_lang

score_app = typer.Typer(
    help="Scoring models (评分模型): fit a scorecard or LightGBM, report, apply, monitor.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Language of texts: zh-CN or en (default: the CLI's)."),
]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")]

_SAMPLE = {
    "train": ("train", "训练"),
    "test": ("test", "测试"),
    "oot": ("out of time", "跨时间"),
    "data": ("data", "数据"),
    "reference": ("reference", "基准"),
    "current": ("current", "当前"),
}
_HEAD = {
    "sample": ("Sample", "样本"),
    "rows": ("Rows", "样本数"),
    "bads": ("Bads", "坏样本"),
    "bad_rate": ("Bad rate", "坏账率"),
    "mean_pd": ("Mean PD", "平均PD"),
    "auc": ("AUC", "AUC"),
    "gini": ("Gini", "基尼"),
    "ks": ("KS", "KS"),
    "brier": ("Brier", "Brier"),
    "grade": ("Grade", "评级"),
    "share": ("Share", "占比"),
    "feature": ("Feature", "变量"),
    "csi": ("CSI", "CSI"),
    "bins": ("Bins", "分箱数"),
    "light": ("Light", "信号灯"),
}
_LIGHT = {"green": ("green", "绿"), "yellow": ("yellow", "黄"), "red": ("red", "红")}


def _lang(value: str | None) -> Lang:
    chosen = value or current_lang()
    if chosen not in ("zh-CN", "en"):
        raise InvalidInput("lang", f"{chosen!r} is not one of zh-CN, en")
    return "zh-CN" if chosen == "zh-CN" else "en"


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "zh-CN" else pair[0]


def _list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def _num(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A Rich progress bar on stderr (gone when done), fed by the services' callbacks."""
    from xiaowei.entrypoints.cli import err

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task("score", total=None)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield update


def _samples_table(samples: dict[str, dict[str, Any]], lang: Lang, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for key in ("sample", "rows", "bads", "bad_rate", "mean_pd", "auc", "gini", "ks", "brier"):
        table.add_column(_pick(_HEAD[key], lang), justify="left" if key == "sample" else "right")
    for name, s in samples.items():
        table.add_row(
            _pick(_SAMPLE.get(name, (name, name)), lang),
            f"{s['rows']:,}",
            f"{s['bads']:,}",
            _num(s["bad_rate"], ".2%"),
            _num(s["mean_pd"], ".2%"),
            _num(s["auc"], ".4f"),
            _num(s["gini"], ".4f"),
            _num(s["ks"], ".4f"),
            _num(s["brier"], ".4f"),
        )
    return table


@score_app.command("fit")
def fit_cmd(
    data: Annotated[Path, typer.Argument(help="Feature table (.parquet or .csv), one row each.")],
    target: Annotated[str, typer.Option("--target", help="0/1 outcome column (1 = bad).")],
    out: Annotated[Path, typer.Option("--out", help="Folder of the model artefact.")],
    model: Annotated[
        str, typer.Option("--model", help="scorecard (WOE points) or lightgbm.")
    ] = "scorecard",
    features: Annotated[
        str | None,
        typer.Option("--features", help="Only these columns, comma-separated patterns: flow_*,…"),
    ] = None,
    exclude: Annotated[
        str | None, typer.Option("--exclude", help="Leave out these columns (patterns).")
    ] = None,
    test_share: Annotated[float, typer.Option("--test-share", help="Test sample share.")] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split.")] = 42,
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="Date column for --oot-from.")
    ] = None,
    oot_from: Annotated[
        str | None,
        typer.Option("--oot-from", help="Rows dated on or after this day are out-of-time."),
    ] = None,
    calibration: Annotated[
        str, typer.Option("--calibration", help="PD calibration: platt, isotonic or none.")
    ] = "platt",
    folds: Annotated[int, typer.Option("--folds", help="Cross-fitting folds.")] = 5,
    name: Annotated[str | None, typer.Option("--name", help="Model name.")] = None,
    version: Annotated[int, typer.Option("--version", help="Model version.")] = 1,
    lang: LangOpt = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fit a scorecard or a LightGBM model (拟合评分模型) with a calibrated PD and save it as a
    versioned artefact; prints the figures of the train, test and out-of-time samples."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.services.scoring import SplitSpec, fit_model

        chosen = _lang(lang)
        start = None
        if oot_from is not None:
            try:
                start = date.fromisoformat(oot_from)
            except ValueError:
                raise InvalidInput("oot_from", f"{oot_from!r} is not a date (YYYY-MM-DD)") from None
        column = time_column or ("application_date" if start is not None else None)
        spec = SplitSpec(test_share=test_share, seed=seed, time_column=column, oot_from=start)
        with _progress(as_json) as update:
            result = fit_model(
                data,
                target=target,
                out=out,
                kind=model,
                features=_list(features),
                exclude=_list(exclude) or (),
                split=spec,
                calibration=calibration,
                folds=folds,
                name=name,
                version=version,
                overwrite=overwrite,
                progress=update,
            )
        if as_json:
            _print_json(
                {
                    "model": str(result.path),
                    "kind": result.manifest["kind"],
                    "features": result.features,
                    "samples": result.samples,
                    "rows_without_outcome": result.dropped_unknown_target,
                }
            )
            return
        title = f"{result.manifest['name']} v{result.manifest['version']} ({model}): " + (
            f"{len(result.features)} 个入模变量"
            if chosen == "zh-CN"
            else f"{len(result.features)} features in the model"
        )
        console.print(_samples_table(result.samples, chosen, title))
        if result.dropped_unknown_target:
            console.print(
                f"{result.dropped_unknown_target:,} rows without an outcome left out",
                highlight=False,
            )
        console.print(f"saved {result.path}", highlight=False)

    guarded(run)


@score_app.command("apply")
def apply_cmd(
    model_path: Annotated[Path, typer.Argument(help="Model artefact folder (score fit).")],
    data: Annotated[Path, typer.Argument(help="Rows to score (.parquet or .csv).")],
    out: Annotated[Path, typer.Option("--out", help="Scores file (.csv or .parquet).")],
    reasons: Annotated[int, typer.Option("--reasons", help="Reason codes per row.")] = 3,
    keep: Annotated[
        str | None, typer.Option("--keep", help="Columns of DATA to copy beside the scores.")
    ] = None,
    show: Annotated[
        int, typer.Option("--show", help="Print the N riskiest rows with their reasons.")
    ] = 0,
    lang: LangOpt = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Score every row (评分): score, PD, master-scale grade and the top reason codes with
    their texts; written atomically to --out."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.services.scoring import apply_model

        chosen = _lang(lang)
        with _progress(as_json) as update:
            result = apply_model(
                model_path,
                data,
                out,
                n_reasons=reasons,
                lang=chosen,
                keep=_list(keep) or (),
                overwrite=overwrite,
                progress=update,
            )
        if as_json:
            _print_json(
                {
                    "out": str(result.out),
                    "rows": result.rows,
                    "mean_pd": result.mean_pd,
                    "grades": result.grades,
                }
            )
            return
        console.print(
            (f"{result.rows:,} 行，平均PD {result.mean_pd:.2%}" if chosen == "zh-CN"
             else f"{result.rows:,} rows, mean PD {result.mean_pd:.2%}"),
            highlight=False,
        )  # fmt: skip
        table = Table(title="评级分布" if chosen == "zh-CN" else "Grades", title_justify="left")
        table.add_column(_pick(_HEAD["grade"], chosen))
        table.add_column(_pick(_HEAD["rows"], chosen), justify="right")
        table.add_column(_pick(_HEAD["share"], chosen), justify="right")
        for grade, count in sorted(result.grades.items(), key=lambda kv: _grade_key(kv[0])):
            table.add_row(grade, f"{count:,}", f"{count / result.rows:.1%}")
        console.print(table)
        if show > 0:
            console.print(_riskiest(result.out, show, chosen))
        console.print(f"wrote {result.out}", highlight=False)

    guarded(run)


def _riskiest(path: Path, n: int, lang: Lang) -> Table:
    """The ``n`` rows of the scores file with the highest PD, with their reason texts."""
    from xiaowei.services.scoring import read_table

    scores = read_table(path)
    top = scores.sort("pd", descending=True, maintain_order=True).head(n)
    reasons = [c for c in scores.columns if c.startswith("reason_") and c.endswith("_text")]
    ids = scores.columns[: scores.columns.index("score")][:1]  # the identifier, if any
    table = Table(
        title="风险最高的申请" if lang == "zh-CN" else "Riskiest applications",
        title_justify="left",
        show_lines=True,
    )
    for name in ids:
        table.add_column(name, justify="right")
    table.add_column("评分" if lang == "zh-CN" else "Score", justify="right")
    table.add_column("PD", justify="right")
    table.add_column(_pick(_HEAD["grade"], lang), justify="right")
    table.add_column("主要原因" if lang == "zh-CN" else "Main reasons")
    for row in top.iter_rows(named=True):
        why = "\n".join(str(row[c]) for c in reasons if row[c] is not None)
        table.add_row(
            *[str(row[c]) for c in ids],
            str(row["score"]),
            f"{row['pd']:.2%}",
            str(row["grade"]),
            why or "-",
        )
    return table


def _grade_key(grade: str) -> tuple[int, str]:
    return (int(grade), "") if grade.isdigit() else (10**9, grade)


@score_app.command("report")
def report_cmd(
    model_path: Annotated[Path, typer.Argument(help="Model artefact folder (score fit).")],
    data: Annotated[
        Path, typer.Argument(help="The training table (gives back train/test/OOT) or new data.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: MODEL-report.html).")
    ] = None,
    charts: Annotated[
        int, typer.Option("--charts", help="Binning charts for the N most informative features.")
    ] = 12,
    lang: LangOpt = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write the HTML model report (模型报告) for a committee or a validator: data, binning
    tables and charts, coefficients and points, performance per sample, calibration by grade,
    stability."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.services.scoring import report_model

        chosen = _lang(lang)
        target = out or Path(f"{model_path.name}-report.html")
        with _progress(as_json) as update:
            result = report_model(
                model_path,
                data,
                target,
                lang=chosen,
                max_charts=charts,
                overwrite=overwrite,
                progress=update,
            )
        if as_json:
            _print_json({"out": str(result.out), "samples": result.samples})
            return
        console.print(_samples_table(result.samples, chosen, str(model_path)))
        console.print(f"wrote {result.out}", highlight=False)

    guarded(run)


@score_app.command("monitor")
def monitor_cmd(
    model_path: Annotated[Path, typer.Argument(help="Model artefact folder (score fit).")],
    reference: Annotated[Path, typer.Argument(help="Reference sample (development).")],
    current: Annotated[Path, typer.Argument(help="Current sample.")],
    bins: Annotated[int, typer.Option("--bins", help="Score bins (reference deciles).")] = 10,
    top: Annotated[int, typer.Option("--top", help="Features shown, least stable first.")] = 10,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Draw the score's PSI chart (PNG).")
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stability of the current sample against the reference (模型监控): PSI of the score and
    CSI of every model feature on the model's bins, with traffic lights (< 0.10 green,
    0.10–0.25 yellow, > 0.25 red); AUC and KS where both files carry the target."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.services.scoring import monitor_model

        chosen = _lang(lang)
        with _progress(as_json) as update:
            result = monitor_model(model_path, reference, current, bins=bins, progress=update)
        if chart is not None:
            from xiaowei.reports.scoring_charts import psi_chart

            psi_chart(result.reference_scores, result.current_scores, chart, bins=bins, lang=chosen)
        if as_json:
            _print_json(
                {
                    "reference_rows": result.reference_rows,
                    "current_rows": result.current_rows,
                    "score_psi": result.score_psi,
                    "score_light": result.score_light,
                    "features": result.features.to_dicts(),
                    "performance": result.performance,
                }
            )
            return
        light = _pick(_LIGHT[result.score_light], chosen)
        head = "评分PSI" if chosen == "zh-CN" else "Score PSI"
        console.print(
            f"{head}: {result.score_psi:.4f} ({light}); "
            f"{result.reference_rows:,} → {result.current_rows:,}",
            highlight=False,
        )
        table = Table(
            title="变量稳定性 (CSI)" if chosen == "zh-CN" else "Feature stability (CSI)",
            title_justify="left",
        )
        for key in ("feature", "csi", "bins", "light"):
            table.add_column(
                _pick(_HEAD[key], chosen), justify="left" if key == "feature" else "right"
            )
        for row in result.features.head(top).iter_rows(named=True):
            table.add_row(
                row["feature"],
                f"{row['csi']:.4f}",
                str(row["bins"]),
                _pick(_LIGHT[row["light"]], chosen),
            )
        console.print(table)
        if result.performance:
            console.print(_samples_table(result.performance, chosen, "AUC / KS"))
        if chart is not None:
            console.print(f"wrote {chart}", highlight=False)

    guarded(run)


@score_app.command("compare")
def compare_cmd(
    models: Annotated[
        list[Path], typer.Argument(help="Model artefact folders, then the DATA file.")
    ],
    by: Annotated[
        str | None, typer.Option("--by", help="Also per segment of this column (industry, …).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Draw the models' ROC curves (PNG).")
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Several models on the same rows (模型对比): AUC of each on the test sample of their fit
    (out-of-time when there is one), overall and per segment of --by; the best of a row is
    starred. The last argument is the data file."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.services.scoring import compare_models

        chosen = _lang(lang)
        if len(models) < 2:
            raise InvalidInput("models", "give one or more models and then the data file")
        *paths, data = models
        with _progress(as_json) as update:
            result = compare_models(paths, data, by=by, progress=update)
        if chart is not None:
            from xiaowei.reports.scoring_charts import roc_chart

            first, *rest = result.models
            roc_chart(
                result.target,
                result.pds[first],
                chart,
                lang=chosen,
                label=first,
                compare={m: (result.target, result.pds[m]) for m in rest},
            )
        if as_json:
            _print_json(
                {"sample": result.sample, "models": result.models, "rows": result.table.to_dicts()}
            )
            return
        sample = _pick(_SAMPLE.get(result.sample, (result.sample,) * 2), chosen)
        table = Table(
            title=("模型对比（AUC，" if chosen == "zh-CN" else "Models compared (AUC, ")
            + sample
            + ("样本）" if chosen == "zh-CN" else " sample)"),
            title_justify="left",
        )
        segment = "分组" if chosen == "zh-CN" else "Segment"
        table.add_column(segment if result.by is None else f"{segment} ({result.by})")
        for key in ("rows", "bads", "bad_rate"):
            table.add_column(_pick(_HEAD[key], chosen), justify="right")
        for model in result.models:
            table.add_column(model, justify="right")
        for row in result.table.iter_rows(named=True):
            aucs = [row[f"auc_{m}"] for m in result.models]
            known = [a for a in aucs if a is not None]
            best = max(known) if len(known) > 1 else None
            cells = ["-" if a is None else f"{a:.3f}" + (" *" if a == best else "  ") for a in aucs]
            table.add_row(
                row["segment"],
                f"{row['rows']:,}",
                f"{row['bads']:,}",
                _num(row["bad_rate"], ".1%"),
                *cells,
            )
        console.print(table)
        if chart is not None:
            console.print(f"wrote {chart}", highlight=False)

    guarded(run)
