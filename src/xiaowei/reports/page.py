"""What the HTML documents of ``reports/`` share: the credit memo (授信审查报告), the model report
(模型报告) and the resolution form (决议表).

* :func:`pick`: a text of an ``(English, Chinese)`` pair in the document's language;
* :func:`data_uri` and :func:`chart`: a PNG chart inlined as a ``data:`` URI (the pages fetch
  nothing), or no chart when there is nothing to draw;
* :func:`environment`: the Jinja2 environment of ``reports/templates``, whose documents extend
  ``_page.html`` (the A4 page, its colours, fonts, headings, tables and badges).

Jinja2 is imported when an environment is made, so a command that only needs :func:`pick`
starts without it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING

from xiaowei.core.i18n import Lang

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["chart", "data_uri", "environment", "pick"]


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Chinese of an ``(English, Chinese)`` pair for ``zh-CN``, else the English."""
    return pair[1] if lang == "zh-CN" else pair[0]


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def chart(draw: Callable[[], bytes]) -> str | None:
    """The chart ``draw`` makes, as a ``data:`` URI; ``None`` when it has nothing to draw (it
    raises ``ValueError``, :class:`~xiaowei.core.errors.InvalidInput` included): the section
    says so instead."""
    try:
        return data_uri(draw())
    except ValueError:
        return None


def environment() -> Environment:
    """The Jinja2 environment of the report templates: autoescaped HTML, an undefined name is
    an error, block tags leave no blank lines."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("xiaowei.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
