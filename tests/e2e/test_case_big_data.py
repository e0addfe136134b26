"""The course case IPC 信贷的改进：大数据技术的应用 (docs/cases/big-data-ipc.md) runs as written.

Its own module: a simulated institution of 3,000 businesses, its feature table and four model
fits take a few minutes, which the suite's second worker carries beside the other cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cases import CASES, HEAVY_PAGES, check_case_page


@pytest.mark.slow
@pytest.mark.parametrize("name", HEAVY_PAGES)
def test_heavy_case_page_commands_run(name: str, tmp_path: Path) -> None:
    check_case_page(CASES / f"{name}.md", tmp_path, timeout=240)
