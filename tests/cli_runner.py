"""Run ``xiaowei …`` in the test process, as the installed command runs it in its own.

A subprocess pays about a second of imports per command; in-process, the suite pays them once.
What a fresh process would start from is set up for every call and put back afterwards:

* the environment (``--lang`` writes ``XIAOWEI_LANG`` into it) and the working directory;
* the cached settings (``bootstrap.get_settings`` reads ``XIAOWEI_*`` once per process);
* the Rich consoles of ``entrypoints.cli``, made anew so that they size themselves from this
  call's ``COLUMNS`` as a new process would (80 columns when it is not set, as on a pipe).

The result has the shape of ``subprocess.run``'s (``returncode``, ``stdout``, ``stderr``); an
exception the CLI does not turn into an error line is printed to ``stderr`` as a traceback with
exit code 1, as Python does. Each CLI test module keeps a test or two through the installed
``xiaowei`` executable (``installed()``), so that the entry point itself stays tested.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from xiaowei import bootstrap
from xiaowei.entrypoints import cli

XIAOWEI = str(Path(sys.executable).parent / "xiaowei")


def run_cli(
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``xiaowei ARGS`` in this process; ``env`` replaces the environment like subprocess's."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_consoles = (cli.console, cli.err)
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        bootstrap.get_settings.cache_clear()
        cli.console, cli.err = Console(), Console(stderr=True)
        result = CliRunner().invoke(cli.app, list(args), prog_name="xiaowei")
    finally:
        cli.console, cli.err = saved_consoles
        bootstrap.get_settings.cache_clear()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["xiaowei", *args], result.exit_code, result.stdout, stderr)


def installed(
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``xiaowei ARGS`` through the installed executable, in a process of its own."""
    return subprocess.run(
        [XIAOWEI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env=None if env is None else dict(env),
    )
