"""What several ``cli_*.py`` modules share: option types, the language of an output, and the
two-column table of labelled values.

Only definitions that are the same to the letter in every module using them live here (an
option with its own help text stays in its module), so a command's ``--help`` and output do not
change with the move. Nothing heavy is imported at module level: the CLI starts fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import JustifyMethod
    from rich.table import Table

    from xiaowei.core.i18n import Lang

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", envvar="XIAOWEI_DATABASE_URL", help="Database URL (SQLite file or PostgreSQL)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who acts (recorded in the audit trail).")]
ApplicationArg = Annotated[str, typer.Argument(help="The application's id.")]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="When it happens (ISO time, e.g. 2025-03-03T09:30; UTC unless an offset is "
        "given). Default: now. For replaying a timeline.",
    ),
]

TermOpt = Annotated[int, typer.Option("--term", help="Term in months.")]

YES, NO = "yes 是", "no 否"


def yes_no(flag: bool) -> str:
    """A bilingual yes or no for a table cell."""
    return YES if flag else NO


def cli_lang(value: str | None) -> Lang:
    """The language of a command's texts: ``--lang``, else the CLI's (``xiaowei --lang`` or
    XIAOWEI_LANG); anything but zh-CN or en is refused."""
    from xiaowei.core.errors import InvalidInput
    from xiaowei.core.i18n import current_lang

    chosen = value or current_lang()
    if chosen not in ("zh-CN", "en"):
        raise InvalidInput("lang", f"{chosen!r} is not one of zh-CN, en")
    return "zh-CN" if chosen == "zh-CN" else "en"


def document_lang(value: str | None) -> Lang:
    """The language of a document for the committee (the credit memo, the resolution form):
    ``--lang``, else XIAOWEI_LANG when set, else Chinese (the CLI's own default is English)."""
    import os

    from xiaowei.core.errors import InvalidInput
    from xiaowei.core.i18n import current_lang

    chosen = value or (os.environ.get("XIAOWEI_LANG") and current_lang()) or "zh-CN"
    if chosen not in ("zh-CN", "en"):
        raise InvalidInput("lang", f"{chosen!r} is not one of zh-CN, en")
    return "en" if chosen == "en" else "zh-CN"


def key_value_table(
    rows: Iterable[tuple[str, str]],
    *,
    title: str | None = None,
    label_style: str | None = None,
    value_justify: JustifyMethod = "left",
) -> Table:
    """A two-column table without a header: a label and its value on each row."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style=label_style)
    table.add_column(justify=value_justify)
    for label, value in rows:
        table.add_row(label, value)
    return table


def parse_at(value: str | None) -> datetime | None:
    from xiaowei.core.errors import InvalidInput

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("at", f"{value!r} is not a time (YYYY-MM-DDTHH:MM)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
