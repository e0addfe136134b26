"""The course-case walkthroughs in docs/cases/ run as written.

Every ``$ xiaowei …`` line of a ```console block is run, in order, in a fresh working
directory, so relative paths (``sqlite:///case.db``, chart files) land there and never in the
repository: the page's first command with the installed ``xiaowei`` executable, the others
in-process (``cli_runner.run_cli``: the same clean environment, a second of imports saved per
command; a warning the command raises fails it, as ``filterwarnings = error`` says).  Each must
exit 0 and print what the page shows under it (trailing spaces and wall times aside; a block
that elides lines with "…" is not compared); ``--json`` output must parse; charts named with
``--chart`` / ``--cashflow-chart`` must be written as PNG; every image the page shows must be
committed next to it.  The charts are also drawn in-process, where a missing-glyph warning
fails the test.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cli_runner import run_cli
from xiaowei.core.i18n import Lang
from xiaowei.lending.schedule import RepaymentMethod, Schedule, ScheduleTerms, generate_schedule
from xiaowei.reports import charts

CASES = Path(__file__).resolve().parents[2] / "docs" / "cases"
XIAOWEI = Path(sys.executable).parent / "xiaowei"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHART_OPTIONS = ("--chart", "--cashflow-chart")


def console_commands(markdown: str) -> list[str]:
    """The ``$ `` lines of the ```console blocks, a trailing backslash continuing a line."""
    commands: list[str] = []
    in_console = False
    pending = ""
    for line in markdown.splitlines():
        stripped = line.strip()
        if not in_console:
            in_console = stripped == "```console"
            continue
        if stripped == "```":
            in_console = False
            continue
        if pending:
            pending += " " + stripped.removesuffix("\\").strip()
        elif line.startswith("$ "):
            pending = line[2:].removesuffix("\\").strip()
        else:
            continue  # output
        if not stripped.endswith("\\"):
            commands.append(pending)
            pending = ""
    return commands


def test_console_commands_are_found() -> None:
    markdown = "text\n```console\n$ xiaowei a \\\n  --b 1\nout\n$ xiaowei c\n```\n$ not me\n"
    assert console_commands(markdown) == ["xiaowei a --b 1", "xiaowei c"]


def console_outputs(markdown: str) -> list[list[str]]:
    """The output lines the page shows under each command, in the order of console_commands."""
    outputs: list[list[str]] = []
    in_console = False
    continuing = False
    for line in markdown.splitlines():
        stripped = line.strip()
        if not in_console:
            in_console = stripped == "```console"
            continue
        if stripped == "```":
            in_console = False
            continue
        if continuing:
            continuing = stripped.endswith("\\")
        elif line.startswith("$ "):
            outputs.append([])
            continuing = stripped.endswith("\\")
        elif outputs:
            outputs[-1].append(line)
    return outputs


_TIMING = re.compile(r"\b\d+(\.\d+)? s\b")


def _comparable(lines: list[str]) -> list[str]:
    """Lines as compared: trailing spaces (Rich pads tables) and wall times left out."""
    out = [_TIMING.sub("N s", line.rstrip()) for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def shown_matches(shown: list[str], printed: str) -> bool:
    """The page's output equals what the command printed; a block that elides lines with
    "…", or shows nothing, is not compared (it says it is not the whole output)."""
    if not shown or any("…" in line for line in shown):
        return True
    return _comparable(shown) == _comparable(printed.splitlines())


def test_console_outputs_pair_with_commands() -> None:
    markdown = "```console\n$ xiaowei a \\\n  --b 1\nout 1\nout 2\n$ xiaowei c\n```\n"
    assert console_outputs(markdown) == [["out 1", "out 2"], []]
    assert shown_matches(["x  ", "done in 1.2 s"], "x\ndone in 3.4 s\n\n")
    assert not shown_matches(["x"], "y")
    assert shown_matches(["x", "…"], "anything")


def _env() -> dict[str, str]:
    # No database or language from the developer's shell: the pages name their own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOWEI_")}
    env["COLUMNS"] = "100"
    return env


#: Pages whose commands take minutes (a simulated institution of thousands and model fits):
#: run from their own test module, so that the suite's two workers share the load.
HEAVY_PAGES = ("big-data-ipc",)


@pytest.mark.slow
@pytest.mark.parametrize(
    "page",
    [p for p in sorted(CASES.glob("*.md")) if p.stem not in HEAVY_PAGES],
    ids=lambda p: p.stem,
)
def test_case_page_commands_run(page: Path, tmp_path: Path) -> None:
    check_case_page(page, tmp_path)


def check_case_page(page: Path, tmp_path: Path, *, timeout: float = 120) -> None:
    """Run the page's commands in ``tmp_path`` and compare what they print with the page."""
    markdown = page.read_text(encoding="utf-8")
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown):
        assert (page.parent / image).is_file(), f"{page.name} shows {image}, which is missing"
    assert XIAOWEI.is_file(), f"no xiaowei at {XIAOWEI}: pip install -e . in this environment"
    commands = console_commands(markdown)
    assert commands, f"{page.name} has no ```console commands"
    shown = console_outputs(markdown)
    assert len(shown) == len(commands)
    env = _env()
    for number, (command, expected) in enumerate(zip(commands, shown, strict=True)):
        argv = shlex.split(command)
        assert argv[0] == "xiaowei", command
        if number == 0:  # the installed entry point
            result = subprocess.run(
                [str(XIAOWEI), *argv[1:]],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        else:
            result = run_cli(*argv[1:], cwd=tmp_path, env=env)
        assert result.returncode == 0, f"$ {command}\n{result.stdout}\n{result.stderr}"
        # the page shows what the command really prints (re-paste when the output changes)
        assert shown_matches(expected, result.stdout), (
            f"{page.name}: $ {command}\n--- shown ---\n"
            + "\n".join(expected)
            + f"\n--- printed ---\n{result.stdout}"
        )
        if "--json" in argv:
            json.loads(result.stdout)
        for option, value in itertools.pairwise(argv):
            if option in CHART_OPTIONS:
                chart = tmp_path / value
                assert chart.read_bytes()[:8] == PNG_SIGNATURE, f"$ {command}: no PNG at {value}"


def _case_schedules() -> list[Schedule]:
    """The six methods of the repayment-methods case, 12 months."""
    weights = tuple(Decimal(w) for w in (0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1))
    extras: dict[RepaymentMethod, dict[str, Any]] = {
        RepaymentMethod.BALLOON: {"balloon_share": Decimal("0.3")},
        RepaymentMethod.SEASONAL: {"weights": weights},
    }
    return [
        generate_schedule(
            ScheduleTerms(
                principal=Decimal("120000"),
                annual_rate=Decimal("0.12"),
                term_months=12,
                start_date=date(2025, 3, 20),
                method=method,
                **extras.get(method, {}),
            )
        )
        for method in RepaymentMethod
    ]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_charts_render_without_warnings(lang: Lang, tmp_path: Path) -> None:
    """In-process, so that a missing-glyph warning fails the test (filterwarnings = error)."""
    if lang == "zh-CN" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk); the English fallback is tested below")
    schedules = _case_schedules()
    exposure = charts.exposure_chart(
        schedules, tmp_path / "exposure.png", lang=lang, pd_annual=0.05, lgd=0.45
    )
    cashflow = charts.cashflow_chart(schedules[:5], tmp_path / "sub" / "cashflow.png", lang=lang)
    for png in (exposure, cashflow):
        assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_charts_fall_back_to_english_without_a_cjk_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.chart_lang("zh-CN") == "en"
    schedules = _case_schedules()
    charts.exposure_chart(schedules, tmp_path / "exposure.png", lang="zh-CN")
    charts.cashflow_chart(schedules, tmp_path / "cashflow.png", lang="zh-CN")
    assert (tmp_path / "cashflow.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_sources_chart_renders_without_warnings(lang: Lang, tmp_path: Path) -> None:
    """The investigation case's chart: declared sales against the independent sources."""
    if lang == "zh-CN" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    months = [date(2025, m, 1) for m in range(1, 13)]
    series = {
        "declared_sales": [100_000.0 + 1000 * m for m in range(12)],
        "bank_in": [120_000.0, None, *[110_000.0] * 10],
        "pos": [40_000.0] * 12,
    }
    png = charts.sources_chart(
        months,
        series,
        tmp_path / "sources.png",
        title="台州市安泰副食品商行" if lang != "en" else "",
        lang=lang,
    )
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(ValueError, match="no months"):
        charts.sources_chart([], {}, tmp_path / "none.png", lang=lang)
