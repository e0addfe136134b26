"""The command line (命令行): ``xiaowei …`` (Typer + Rich).

Every command takes ``--db URL`` (default: ``XIAOWEI_DATABASE_URL`` or ``sqlite:///xiaowei.db``)
and most take ``--json`` for machines. Errors print one line and exit non-zero; nothing
half-written stays in the database (each command is one unit of work).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from xiaowei.core.daycount import DayCount
from xiaowei.core.errors import InvalidInput, XiaoweiError
from xiaowei.core.i18n import t
from xiaowei.core.money import RoundingMode, parse_amount
from xiaowei.lending.loan import Loan
from xiaowei.lending.schedule import (
    Frequency,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    generate_schedule,
)

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="xiaowei (小微): small-business lending."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema (数据库).")
product_app = typer.Typer(no_args_is_help=True, help="Loan products (贷款产品).")
loan_app = typer.Typer(no_args_is_help=True, help="Loans and their ledger (贷款).")
portfolio_app = typer.Typer(no_args_is_help=True, help="Portfolio reports (贷款组合).")
ledger_app = typer.Typer(no_args_is_help=True, help="The general ledger (总账).")
app.add_typer(db_app, name="db")
app.add_typer(product_app, name="product")
app.add_typer(loan_app, name="loan")
app.add_typer(portfolio_app, name="portfolio")
app.add_typer(ledger_app, name="ledger")


@app.callback()
def _options(
    lang: Annotated[
        str | None,
        typer.Option("--lang", envvar="XIAOWEI_LANG", help="Language of tables: en or zh-CN."),
    ] = None,
) -> None:
    """xiaowei (小微): the life of a small-business loan, from product to portfolio."""
    if lang is not None:
        if lang not in ("en", "zh-CN"):
            _fail(f"lang: {lang!r} is not one of en, zh-CN")
        os.environ["XIAOWEI_LANG"] = lang


console = Console()
err = Console(stderr=True)
T = TypeVar("T")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", envvar="XIAOWEI_DATABASE_URL", help="Database URL (SQLite file or PostgreSQL)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``; turn our errors and database errors into one clear line and exit 1."""
    try:
        return fn()
    except XiaoweiError as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        _fail(f"database: {str(cause).splitlines()[0]}")
    raise AssertionError("unreachable")


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _rate(value: str, field: str = "annual_rate") -> Decimal:
    try:
        rate = Decimal(value)
    except ArithmeticError:
        raise InvalidInput(field, f"{value!r} is not a number") from None
    if not rate.is_finite():
        raise InvalidInput(field, f"{value!r} is not a number")
    return rate


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# --------------------------------------------------------------------------- schedule
def _terms(
    *,
    amount: str,
    annual_rate: str,
    term: int,
    method: RepaymentMethod,
    start: str,
    frequency: Frequency,
    repayment_day: int | None,
    grace: int,
    balloon: str | None,
    weights: str | None,
    rounding: RoundingMode = RoundingMode.HALF_UP,
    day_count: DayCount = DayCount.ACT_360,
) -> ScheduleTerms:
    weight_values: tuple[Decimal, ...] = ()
    if weights:
        try:
            weight_values = tuple(Decimal(w.strip()) for w in weights.split(","))
        except ArithmeticError:
            raise InvalidInput(
                "weights", f"{weights!r} is not a comma-separated list of numbers"
            ) from None
    return ScheduleTerms(
        principal=parse_amount(amount),
        annual_rate=_rate(annual_rate),
        term_months=term,
        start_date=_date(start, "start"),
        method=method,
        frequency=frequency,
        repayment_day=repayment_day,
        grace_periods=grace,
        balloon_share=_rate(balloon, "balloon") if balloon else Decimal(0),
        weights=weight_values,
        rounding=rounding,
        day_count=day_count,
    )


def _schedule_table(schedule: Schedule, title: str) -> Table:
    table = Table(title=title)
    for key in ("number", "due_date", "principal", "interest", "total", "balance"):
        table.add_column(t(key), justify="right")
    for i in schedule.installments:
        table.add_row(
            str(i.number),
            i.due_date.isoformat(),
            f"{i.principal:,.2f}",
            f"{i.interest:,.2f}",
            f"{i.total:,.2f}",
            f"{i.balance:,.2f}",
        )
    table.caption = (
        f"{t('total_interest')} {schedule.total_interest:,.2f} · {t('apr')} {schedule.apr:.4%}"
        f" · {t('ear')} {schedule.effective_annual_rate:.4%}"
    )
    return table


@app.command()
def schedule(
    amount: Annotated[str, typer.Option(help="Principal, e.g. 100000.")],
    annual_rate: Annotated[
        str, typer.Option("--annual-rate", help="Annual rate as a fraction, e.g. 0.12.")
    ],
    term: Annotated[int, typer.Option(help="Term in months.")],
    start: Annotated[str, typer.Option(help="Disbursement date YYYY-MM-DD.")],
    method: Annotated[
        RepaymentMethod, typer.Option(help="Repayment method (还款方式).")
    ] = RepaymentMethod.EQUAL_INSTALLMENT,
    frequency: Annotated[Frequency, typer.Option(help="Repayment frequency.")] = Frequency.MONTHLY,
    repayment_day: Annotated[
        int | None,
        typer.Option("--repayment-day", help="Fixed repayment day (broken first period)."),
    ] = None,
    grace: Annotated[int, typer.Option(help="Interest-only grace periods before amortising.")] = 0,
    balloon: Annotated[
        str | None, typer.Option(help="Share of principal due at maturity (balloon).")
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help="Seasonal principal weights, e.g. 1,1,2,3.")
    ] = None,
    rounding: Annotated[
        RoundingMode, typer.Option(help="Rounding to the fen.")
    ] = RoundingMode.HALF_UP,
    as_json: JsonOpt = False,
) -> None:
    """Print a repayment schedule (还款计划) with its APR, without touching a database."""

    def run() -> None:
        terms = _terms(
            amount=amount,
            annual_rate=annual_rate,
            term=term,
            method=method,
            start=start,
            frequency=frequency,
            repayment_day=repayment_day,
            grace=grace,
            balloon=balloon,
            weights=weights,
            rounding=rounding,
        )
        result = generate_schedule(terms)
        if as_json:
            _print_json(result.to_json())
        else:
            console.print(
                _schedule_table(result, f"{t('schedule')} · {method.value} ({method.name_zh})")
            )

    guarded(run)


# --------------------------------------------------------------------------- db
@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create or migrate the schema to the latest version (Alembic)."""

    def run() -> None:
        from xiaowei.adapters.migrate import current_revision, upgrade
        from xiaowei.bootstrap import engine_for

        engine = engine_for(db, require_schema=False)
        upgrade(engine)
        console.print(
            f"schema at revision {current_revision(engine)} on "
            f"{engine.url.render_as_string(hide_password=True)}"
        )

    guarded(run)


# --------------------------------------------------------------------------- products
@product_app.command("import")
def product_import(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="YAML files or folders; default: the shipped catalogue."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Import products from YAML (versioned; all or nothing)."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.products import import_products

        for o in import_products(engine_for(db), paths):
            console.print(f"{o.code} v{o.version}: {o.action}")

    guarded(run)


@product_app.command("list")
def product_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the products and their versions."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.lending.catalogue import product_to_mapping
        from xiaowei.services.products import list_products

        products = list_products(engine_for(db))
        if as_json:
            _print_json([product_to_mapping(p) for p in products])
            return
        table = Table()
        for key in ("code", "version", "name", "amount", "term", "rate", "methods"):
            table.add_column(t(key), no_wrap=key != "name")
        for p in products:
            table.add_row(
                p.code,
                str(p.version),
                f"{p.name_zh}\n{p.name_en}",
                f"{p.amount_min:,.0f}–{p.amount_max:,.0f}",
                f"{p.term_min}–{p.term_max}",
                f"{p.rate_min:.2%}–{p.rate_max:.2%}",
                "\n".join(m.name_zh for m in p.methods),
            )
        console.print(table)

    guarded(run)


@product_app.command("show")
def product_show(
    code: str,
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one product in full."""

    def run() -> None:
        import yaml

        from xiaowei.bootstrap import engine_for
        from xiaowei.lending.catalogue import product_to_mapping
        from xiaowei.services.products import get_product

        data = product_to_mapping(get_product(engine_for(db), code, version))
        if as_json:
            _print_json(data)
        else:
            console.print(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False), highlight=False
            )

    guarded(run)


# --------------------------------------------------------------------------- loans
@loan_app.command("book")
def loan_book(
    product: Annotated[str, typer.Option(help="Product code.")],
    amount: Annotated[str, typer.Option(help="Principal.")],
    term: Annotated[int, typer.Option(help="Term in months.")],
    annual_rate: Annotated[str, typer.Option("--annual-rate", help="Annual rate as a fraction.")],
    start: Annotated[str, typer.Option(help="Disbursement date YYYY-MM-DD.")],
    method: Annotated[
        RepaymentMethod, typer.Option(help="Repayment method.")
    ] = RepaymentMethod.EQUAL_INSTALLMENT,
    frequency: Annotated[Frequency, typer.Option(help="Repayment frequency.")] = Frequency.MONTHLY,
    repayment_day: Annotated[int | None, typer.Option("--repayment-day")] = None,
    grace: Annotated[int, typer.Option(help="Interest-only grace periods.")] = 0,
    balloon: Annotated[str | None, typer.Option(help="Balloon share.")] = None,
    weights: Annotated[str | None, typer.Option(help="Seasonal weights.")] = None,
    customer: Annotated[str, typer.Option(help="Customer id.")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Book and disburse a loan (放款) under a product; prints the new loan id."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.loans import book_loan
        from xiaowei.services.products import get_product

        engine = engine_for(db)
        p = get_product(engine, product)
        terms = _terms(
            amount=amount,
            annual_rate=annual_rate,
            term=term,
            method=method,
            start=start,
            frequency=frequency,
            repayment_day=repayment_day if repayment_day is not None else p.repayment_day,
            grace=grace,
            balloon=balloon,
            weights=weights,
            rounding=p.rounding,
            day_count=p.day_count,
        )
        loan_id = book_loan(engine, product_code=product, terms=terms, customer_id=customer)
        if as_json:
            _print_json({"loan_id": loan_id})
        else:
            console.print(loan_id)

    guarded(run)


def _posting_json(result: Any) -> dict[str, Any]:
    return {
        "key": result.key,
        "duplicate": result.duplicate,
        "entries": [
            {
                "type": e.entry_type.value,
                "installment": e.installment,
                "value_date": e.value_date.isoformat(),
                "principal": str(e.principal),
                "interest": str(e.interest),
                "penalty": str(e.penalty),
                "compound": str(e.compound),
                "fee": str(e.fee),
                "credit": str(e.credit),
                "memo": e.memo,
            }
            for e in result.entries
        ],
    }


@loan_app.command("repay")
def loan_repay(
    loan_id: Annotated[int, typer.Argument(help="Loan id.")],
    amount: Annotated[str, typer.Option(help="Amount received.")],
    date_: Annotated[str, typer.Option("--date", help="Value date YYYY-MM-DD.")],
    ref: Annotated[str, typer.Option(help="Idempotency reference: the same ref twice posts once.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Post a repayment (还款); allocation follows the product's rule."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.loans import repay

        result = repay(
            engine_for(db),
            loan_id=loan_id,
            amount=parse_amount(amount),
            value_date=_date(date_, "date"),
            key=ref,
        )
        if as_json:
            _print_json(_posting_json(result))
            return
        note = " (already posted: nothing changed)" if result.duplicate else ""
        console.print(
            f"repayment {ref} on loan {loan_id}: {result.amount:,.2f} received, "
            f"{len(result.entries)} ledger lines{note}",
            highlight=False,
            soft_wrap=True,
        )
        for line in _posting_lines(result.entries):
            console.print(f"  {line}", highlight=False, soft_wrap=True)

    guarded(run)


def _posting_lines(entries: Any) -> list[str]:
    """A readable account of a posting: allocation per installment, then what a backdated
    value date reversed and re-accrued, summed per kind."""
    names = ("principal", "interest", "penalty", "compound", "fee", "credit")
    lines: list[str] = []
    summed: dict[str, tuple[int, Decimal]] = {}
    for e in entries:
        kind = e.entry_type.value
        if e.entry_type.value in ("repayment", "prepayment", "fee"):
            parts = [
                f"{n} {-getattr(e, n) if n != 'credit' else e.credit:,.2f}"
                for n in names
                if getattr(e, n)
            ]
            where = f"installment {e.installment}" if e.installment else "loan"
            lines.append(f"{kind:<12} {where:<15} " + ", ".join(parts))
            continue
        if e.entry_type.value == "reversal":
            kind = f"reversed {e.reversed_type.value if e.reversed_type else ''}"
        amount = e.interest + e.penalty + e.compound
        count, total = summed.get(kind, (0, Decimal(0)))
        summed[kind] = (count + 1, total + amount)
    for kind, (count, total) in summed.items():
        lines.append(f"{kind:<28} {count:>4} day-lines, total {total:,.2f}")
    return lines


def _installment_state(loan: Loan, st: Any, as_of: date) -> str:
    if st.settled:
        return t("settled")
    if not st.is_due(as_of):
        return t("partial") if st.principal_paid or st.interest_paid else t("future")
    late = (as_of - st.due_date).days
    return t("overdue") if late > loan.product.overdue_grace_days else t("due")


def loan_view(loan: Loan) -> dict[str, Any]:
    """The JSON form of ``loan show``."""
    as_of = loan.as_of()
    states = loan.installments()
    b = loan.balances(as_of=as_of)
    return {
        "loan_id": loan.id,
        "customer_id": loan.customer_id,
        "product": {"code": loan.product.code, "version": loan.product.version},
        "status": loan.status.value,
        "as_of": as_of.isoformat(),
        "dpd": loan.dpd,
        "bucket": loan.bucket,
        "amount": str(loan.terms.principal),
        "annual_rate": str(loan.terms.annual_rate),
        "method": loan.terms.method.value,
        "schedule_version": loan.schedule_version,
        "balances": b.to_json(),
        "installments": [
            {
                "number": st.number,
                "due_date": st.due_date.isoformat(),
                "principal": str(st.plan.principal),
                "interest": str(st.plan.interest),
                "total": str(st.plan.principal + st.plan.interest),
                "balance": str(st.plan.opening_balance - st.plan.principal),
                "paid": str(st.principal_paid + st.interest_paid),
                "principal_paid": str(st.principal_paid),
                "interest_paid": str(st.interest_paid),
                "penalty": str(st.penalty),
                "compound": str(st.compound),
                "state": _installment_state(loan, st, as_of),
            }
            for st in states
        ],
    }


@loan_app.command("show")
def loan_show(
    loan_id: Annotated[int, typer.Argument(help="Loan id.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a loan: schedule with paid and unpaid parts, balances, DPD and bucket."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.loans import get_loan

        loan = get_loan(engine_for(db), loan_id)
        view = loan_view(loan)
        if as_json:
            _print_json(view)
            return
        console.print(
            f"loan {loan.id} · {loan.product.code} v{loan.product.version} "
            f"{loan.product.name_zh} · {view['status']} · as of {view['as_of']} · "
            f"DPD {loan.dpd} · {t('bucket')} {loan.bucket}",
            highlight=False,
        )
        table = Table()
        for key in (
            "number",
            "due_date",
            "principal",
            "interest",
            "total",
            "paid",
            "penalty",
            "state",
        ):
            table.add_column(t(key), justify="right")
        for row in view["installments"]:
            table.add_row(
                str(row["number"]),
                row["due_date"],
                *(f"{Decimal(row[k]):,.2f}" for k in ("principal", "interest", "total", "paid")),
                f"{Decimal(row['penalty']):,.2f}",
                row["state"],
            )
        console.print(table)
        grid = Table.grid(padding=(0, 2))
        grid.add_column()
        grid.add_column(justify="right")
        for name, value in view["balances"].items():
            grid.add_row(f"  {t(name)}", f"{Decimal(value):,.2f}")
        console.print(grid, highlight=False)

    guarded(run)


def _movement(loan_id: int, date_: str, ref: str, db: str | None, label: str, what: str) -> None:
    """Run a waiver or write-off use case and print one line."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services import loans

        use_case = loans.waive if what == "waive" else loans.write_off
        r = use_case(engine_for(db), loan_id=loan_id, value_date=_date(date_, "date"), key=ref)
        note = " (already posted: nothing changed)" if r.duplicate else ""
        console.print(f"{label} {ref}: {len(r.entries)} lines{note}")

    guarded(run)


@loan_app.command("waive")
def loan_waive(
    loan_id: int,
    date_: Annotated[str, typer.Option("--date")],
    ref: Annotated[str, typer.Option()],
    db: DbOpt = None,
) -> None:
    """Waive unpaid penalty and compound interest (罚息减免)."""
    _movement(loan_id, date_, ref, db, "waiver", "waive")


@loan_app.command("write-off")
def loan_write_off(
    loan_id: int,
    date_: Annotated[str, typer.Option("--date")],
    ref: Annotated[str, typer.Option()],
    db: DbOpt = None,
) -> None:
    """Write a loan off against the loss reserve (核销)."""
    _movement(loan_id, date_, ref, db, "write-off", "write-off")


@loan_app.command("recover")
def loan_recover(
    loan_id: int,
    amount: Annotated[str, typer.Option()],
    date_: Annotated[str, typer.Option("--date")],
    ref: Annotated[str, typer.Option()],
    db: DbOpt = None,
) -> None:
    """Record cash recovered on a written-off loan (核销后收回)."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.loans import recover

        r = recover(
            engine_for(db),
            loan_id=loan_id,
            amount=parse_amount(amount),
            value_date=_date(date_, "date"),
            key=ref,
        )
        console.print(f"recovery {ref}: {r.amount}")

    guarded(run)


# --------------------------------------------------------------------------- end of day
@app.command()
def eod(
    date_: Annotated[
        str | None, typer.Option("--date", help="Run end of day for this business date.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Catch up day by day up to this date.")] = None,
    chunk: Annotated[int, typer.Option(help="Loans per transaction.")] = 50_000,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """End of day (日终): accrue interest, penalty and compound interest; age arrears.

    Loans behind the date are caught up first, in order. Running a date twice changes nothing.
    """

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services import eod as eod_service

        if (date_ is None) == (until is None):
            raise InvalidInput("date", "give exactly one of --date D or --until D")
        target = _date(date_ or until or "", "date" if date_ else "until")
        engine = engine_for(db)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("end of day", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            def on_day(r: eod_service.DayResult) -> None:
                bar.update(task, description=f"end of day {r.business_date}")

            results = eod_service.run_until(
                engine, target, chunk=chunk, progress=progress, on_day=on_day
            )
        records = [
            {
                "date": r.business_date.isoformat(),
                "loans": r.loans,
                "entries": r.entries,
                "seconds": round(r.seconds, 3),
            }
            for r in results
        ]
        if as_json:
            _print_json({"runs": records})
            return
        if not records:
            console.print(f"nothing to do: every active loan has run end of day through {target}")
        elif len(records) <= 5:
            for rec in records:
                console.print(
                    f"end of day {rec['date']}: {rec['loans']} loans, "
                    f"{rec['entries']} entries, {rec['seconds']} s"
                )
        else:
            total_s = sum(float(str(r["seconds"])) for r in records)
            console.print(
                f"end of day {records[0]['date']} … {records[-1]['date']}: {len(records)} days, "
                f"{sum(int(str(r['entries'])) for r in records)} entries, {total_s:.1f} s"
            )

    guarded(run)


# --------------------------------------------------------------------------- reports
def _summary_tables(s: Any) -> None:
    console.print(
        f"{t('portfolio')} as of {s.as_of} · active {s.active} · closed {s.closed} · "
        f"written off {s.written_off}",
        highlight=False,
    )
    table = Table()
    for key in ("bucket", "loans", "outstanding", "overdue_principal"):
        table.add_column(t(key), justify="right")
    for b in s.buckets:
        table.add_row(
            b.bucket, str(b.loans), f"{b.outstanding:,.2f}", f"{b.overdue_principal:,.2f}"
        )
    table.add_row(t("total"), str(s.active), f"{s.outstanding:,.2f}", f"{s.overdue_principal:,.2f}")
    console.print(table)
    console.print(
        f"{t('interest_earned')} {s.interest_earned:,.2f} · "
        f"{t('penalty_earned')} {s.penalty_earned:,.2f}"
        f" · {t('compound')} {s.compound_earned:,.2f}",
        highlight=False,
    )


@portfolio_app.command("summary")
def portfolio_summary(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Outstanding, counts and balances per bucket (M0–M7), interest earned."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.portfolio import summary

        s = summary(engine_for(db))
        if as_json:
            _print_json(s.to_json())
        else:
            _summary_tables(s)

    guarded(run)


@ledger_app.command("trial-balance")
def ledger_trial_balance(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Trial balance of the general ledger (试算平衡表): debits equal credits."""

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.portfolio import ledger_trial_balance as tb

        balances = tb(engine_for(db))
        if as_json:
            _print_json({a.value: str(v) for a, v in sorted(balances.items())})
            return
        table = Table()
        for key in ("account", "debit", "credit"):
            table.add_column(t(key), justify="right" if key != "account" else "left")
        for account, value in sorted(balances.items()):
            table.add_row(
                account.value,
                f"{value:,.2f}" if value > 0 else "",
                f"{-value:,.2f}" if value < 0 else "",
            )
        debits = sum((v for v in balances.values() if v > 0), Decimal(0))
        credits = -sum((v for v in balances.values() if v < 0), Decimal(0))
        table.add_row(t("total"), f"{debits:,.2f}", f"{credits:,.2f}")
        console.print(table)

    guarded(run)


# --------------------------------------------------------------------------- demo
@app.command()
def demo(
    db: DbOpt = None,
    loans: Annotated[int, typer.Option(help="Loans to book over the year.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same institution).")] = 7,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from an empty database.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The demo: products, a year of lending with end of day every day, the portfolio."""

    def run() -> None:
        from xiaowei.services.demo import run_demo

        result = run_demo(db, loans=loans, seed=seed, fresh=fresh, console=None if as_json else err)
        if as_json:
            _print_json(result.to_json())
            return
        mix = ", ".join(f"{k} {v}" for k, v in result.behaviours.items())
        console.print(
            f"booked {loans} loans over 2025 ({mix}); posted {result.repayments} repayments; "
            f"ran end of day on {result.eod_days} days ({result.eod_entries} accrual entries) "
            f"in {result.seconds:.0f} s",
            highlight=False,
        )
        _summary_tables(result.summary)

    guarded(run)


def main() -> None:
    app()


from xiaowei.entrypoints.cli_cases import compare  # noqa: E402  (last: cli_cases uses cli)

app.command("compare")(compare)

from xiaowei.entrypoints.cli_simulate import simulate_app  # noqa: E402

app.add_typer(simulate_app, name="simulate")

from xiaowei.entrypoints.cli_analyse import analyse_app  # noqa: E402

app.add_typer(analyse_app, name="analyse")
import xiaowei.entrypoints.cli_analyse_batch  # noqa: E402  (registers analyse cross-checks)
import xiaowei.entrypoints.cli_analyse_channels  # noqa: E402  (registers analyse channels/attendance)
import xiaowei.entrypoints.cli_analyse_soft  # noqa: E402, F401  (registers analyse willingness, grid)
from xiaowei.entrypoints.cli_score import score_app  # noqa: E402

app.add_typer(score_app, name="score")

from xiaowei.entrypoints.cli_capital import capital_app, price_cmd  # noqa: E402
from xiaowei.entrypoints.cli_policy import policy_app  # noqa: E402

app.add_typer(capital_app, name="capital")
app.add_typer(policy_app, name="policy")
app.command("price")(price_cmd)

from xiaowei.entrypoints.cli_decide import decide_cmd, decision_app  # noqa: E402

app.command("decide")(decide_cmd)
app.add_typer(decision_app, name="decision")

from xiaowei.entrypoints.cli_factory import factory_app  # noqa: E402

app.add_typer(factory_app, name="factory")

from xiaowei.entrypoints.cli_committee import committee_app  # noqa: E402

app.add_typer(committee_app, name="committee")

from xiaowei.entrypoints.cli_strategy import strategy_app  # noqa: E402

app.add_typer(strategy_app, name="strategy")

if __name__ == "__main__":
    main()
