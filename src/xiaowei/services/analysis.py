"""Use case: the credit file (信贷档案) of one business of a simulated run.

Reads only the run's observable tables (never ``truth/``): each table is scanned lazily and
filtered to the business (``pl.scan_parquet(...).filter(business_id)``), the personal credit
report is taken from ``credit_reports/personal/*.jsonl``. The applicant's list of debts
(``financials/declared_debts``, the application form's 负债清单) gives the declared lenders
(a run written before that table existed has none: the credit file then says the hidden-debt
check could not run). The guarantee network is read from every applicant's ``parties``
(business guarantors, 保证人(企业)) with every applicant's requested amount, so the file sees
circles and chains beyond the applicant's own guarantors. The run holds no phone numbers or
addresses, so the shared-attribute check is not fed here.

**Post-loan re-analysis** (贷后重新分析, ``as_of``): the file is rebuilt from what the lender
could hold on that date — statements, POS settlements, e-commerce months and attendance days
up to ``as_of`` (the channel features then use the complete months before it), and the
refreshed personal report (``credit_reports/personal_refresh``, 贷后查询) once ``as_of`` is on
or after its report date, else the application report. What the applicant declared at the
application (the IPC statements, the list of debts, the head count) stays as declared: the
dynamic soft information (动态软信息) is what moves. A date before the application is refused.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from xiaowei.analysis import network, soft
from xiaowei.analysis.config import AnalysisConfig
from xiaowei.analysis.credit_file import ApplicationInputs, CreditFile, analyse_application
from xiaowei.analysis.credit_report_schema import parse_personal
from xiaowei.core.errors import InvalidInput, NotFound

#: The rate assumed for the capacity check when the run states none (the simulator's loans get
#: their rate at booking, after the analysis). A planning figure, overridable by the caller.
DEFAULT_ANNUAL_RATE = Decimal("0.12")

_MARITAL = {
    "未婚": soft.MaritalStatus.SINGLE,
    "已婚": soft.MaritalStatus.MARRIED,
    "丧偶": soft.MaritalStatus.WIDOWED,
    "离异": soft.MaritalStatus.DIVORCED,
}
_EDUCATION = {
    "小学及以下": soft.Education.PRIMARY,
    "初中": soft.Education.MIDDLE,
    "高中/中专": soft.Education.HIGH,
    "大专": soft.Education.COLLEGE,
    "本科及以上": soft.Education.UNIVERSITY,
}


def owner_profile(
    owner: dict[str, Any], years_in_business: float, *, has_spouse: bool
) -> soft.OwnerProfile:
    """The static soft information (静态软信息) of a simulated owner row (``owners`` table)."""
    marital = _MARITAL.get(owner["marital_status"])
    education = _EDUCATION.get(owner["education"])
    if marital is None or education is None:
        raise InvalidInput(
            "owners",
            f"unknown marital status or education {owner['marital_status']!r}, "
            f"{owner['education']!r}",
        )
    return soft.OwnerProfile(
        age=owner["age"],
        marital_status=marital,
        education=education,
        years_in_business=years_in_business,
        years_at_residence=float(owner["years_at_residence"]),
        household_size=owner["household_size"],
        children=owner["children"],
        spouse_involved=has_spouse and marital is soft.MaritalStatus.MARRIED,
        # the run records no residence permit (户籍) or home ownership: not guessed
        local_resident=False,
    )


def scan_table(run_dir: Path, name: str) -> pl.LazyFrame | None:
    """A lazy scan of one observable table of a run (None when the run has none)."""
    folder = run_dir / name
    if not any(folder.glob("part-*.parquet")):
        return None
    return pl.scan_parquet(folder / "part-*.parquet")


def business_table(run_dir: Path, name: str, business_id: int) -> pl.DataFrame | None:
    """The rows of one business in one observable table of a run."""
    scan = scan_table(run_dir, name)
    return None if scan is None else scan.filter(pl.col("business_id") == business_id).collect()


def own_identities(run_dir: Path, business_id: int | None = None) -> pl.DataFrame:
    """Names and accounts that are each applicant's own (本人/配偶/本企业), as
    :func:`xiaowei.analysis.flows.own_identities` frames them (``business_id, identifier``):
    the firm's name, its accounts' numbers and holders, the owner and, next to a known owner,
    the spouse. One business when ``business_id`` is given, else every applicant."""

    def scan(name: str) -> pl.LazyFrame | None:
        found = scan_table(run_dir, name)
        if found is None or business_id is None:
            return found
        return found.filter(pl.col("business_id") == business_id)

    businesses = scan("businesses")
    if businesses is None:
        raise NotFound(f"no businesses table in {run_dir}")
    parts = [businesses.select("business_id", pl.col("business_name").alias("identifier"))]
    accounts = scan("statements/accounts")
    if accounts is not None:
        parts += [
            accounts.select("business_id", pl.col("account_no").alias("identifier")),
            accounts.select("business_id", pl.col("holder_name").alias("identifier")),
        ]
    owners = scan("owners")
    if owners is not None:
        parts.append(owners.select("business_id", pl.col("name").alias("identifier")))
        parties = scan("parties")
        if parties is not None:
            spouses = parties.filter(pl.col("role") == "spouse").join(
                owners.select("business_id").unique(), on="business_id", how="semi"
            )
            parts.append(spouses.select("business_id", pl.col("name").alias("identifier")))
    frame = pl.concat(
        [
            p.select(pl.col("business_id").cast(pl.Int64), pl.col("identifier").cast(pl.String))
            for p in parts
        ]
    ).collect()
    return frame.drop_nulls().filter(pl.col("identifier") != "").unique().sort(pl.all())


def _personal_report(
    run_dir: Path, business_id: int, kind: str = "personal"
) -> dict[str, Any] | None:
    for part in sorted((run_dir / "credit_reports" / kind).glob("part-*.jsonl")):
        with part.open(encoding="utf-8") as fh:
            for line in fh:
                if f'"business_id":{business_id},' not in line.replace(" ", ""):
                    continue
                doc = json.loads(line)
                if doc.get("business_id") == business_id:
                    return doc  # type: ignore[no-any-return]
    return None


#: Time-stamped observable tables and their date column: a post-loan file sees rows up to as_of.
DATED = {
    "statements/transactions": "date",
    "pos/settlements": "settle_date",
    "ecommerce/store_monthly": "month",
    "workplace/attendance": "date",
}


def _up_to(frame: pl.DataFrame | None, table: str, as_of: date | None) -> pl.DataFrame | None:
    """The rows of ``table`` known on ``as_of`` (all rows when ``as_of`` is None)."""
    if frame is None or as_of is None:
        return frame
    column = DATED[table]
    if column == "month":  # a month's totals are known once the month is over
        return frame.filter(pl.col(column) < as_of.replace(day=1))
    return frame.filter(pl.col(column) <= as_of)


def load_simulated_application(
    run_dir: Path,
    business_id: int,
    annual_rate: Decimal = DEFAULT_ANNUAL_RATE,
    *,
    as_of: date | None = None,
) -> ApplicationInputs:
    """The observable inputs of one business of a simulated run (never ``truth/``).

    ``as_of`` (None: the application date) rebuilds the inputs as known on a later date, for
    post-loan re-analysis (see the module text); a date before the application is refused.
    """
    if not (run_dir / "manifest.json").is_file():
        raise NotFound(f"no simulator run at {run_dir} (manifest.json missing)")
    business = business_table(run_dir, "businesses", business_id)
    if business is None or business.height == 0:
        raise NotFound(f"no business {business_id} in {run_dir}")
    biz = business.row(0, named=True)
    applied: date = biz["application_date"]
    if as_of is not None and as_of < applied:
        raise InvalidInput(
            "as_of",
            f"{as_of} is before business {business_id}'s application date {applied}: a credit "
            "file is rebuilt at the application or later (post-loan), never before",
        )
    owners = business_table(run_dir, "owners", business_id)
    parties = business_table(run_dir, "parties", business_id)
    own = own_identities(run_dir, business_id)["identifier"].to_list()
    profile: soft.OwnerProfile | None = None
    if owners is not None and owners.height:
        spouse = parties is not None and (parties["role"] == "spouse").any()
        profile = owner_profile(
            owners.row(0, named=True), float(biz["years_in_business"]), has_spouse=bool(spouse)
        )
    doc = _personal_report(run_dir, business_id)
    if as_of is not None and as_of > applied:
        refresh = _personal_report(run_dir, business_id, "personal_refresh")
        if refresh is not None and as_of >= parse_personal(refresh).PRH.report_time.date():
            doc = refresh  # the post-loan query (贷后查询) is known from its report date
    declared_debts = business_table(run_dir, "financials/declared_debts", business_id)
    edges, loan_amounts = _network(run_dir)
    known = as_of or applied  # every dated source is cut here, the memo's charts included
    guarantors = 0 if parties is None else parties.filter(pl.col("role") == "guarantor").height
    return ApplicationInputs(
        business_id=business_id,
        as_of=as_of or applied,
        industry=biz["industry"],
        employees=biz["employees"],
        statements=_up_to(
            business_table(run_dir, "statements/transactions", business_id),
            "statements/transactions",
            known,
        ),
        own_identities=tuple(own),
        declared_debts=declared_debts,
        balance_sheets=business_table(run_dir, "financials/balance_sheets", business_id),
        income_monthly=business_table(run_dir, "financials/income_monthly", business_id),
        products=business_table(run_dir, "financials/products", business_id),
        equity_inputs=business_table(
            run_dir, "financials/equity_reconciliation_inputs", business_id
        ),
        pos_settlements=_nonempty(_dated(run_dir, "pos/settlements", business_id, known)),
        ecommerce=_nonempty(_dated(run_dir, "ecommerce/store_monthly", business_id, known)),
        attendance=_nonempty(_dated(run_dir, "workplace/attendance", business_id, known)),
        personal_report=parse_personal(doc) if doc is not None else None,
        requested_amount_fen=biz["requested_amount_fen"],
        term_months=biz["requested_term"],
        annual_rate=annual_rate,
        owner_profile=profile,
        # a guarantor (保证人) answers for the whole loan (连带责任保证)
        guarantor_shares=(Decimal(1),) * guarantors,
        guarantee_edges=edges,
        loan_amounts=loan_amounts,
    )


def _network(run_dir: Path) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Guarantee edges of the whole run (from ``parties``) and every applicant's amount."""
    if not any((run_dir / "parties").glob("part-*.parquet")):
        return None, None
    parties = pl.scan_parquet(run_dir / "parties" / "part-*.parquet").select(
        "business_id", "role", "linked_business_id"
    )
    edges = network.edges_from_parties(parties.collect())
    amounts = (
        pl.scan_parquet(run_dir / "businesses" / "part-*.parquet")
        .select("business_id", pl.col("requested_amount_fen").alias("amount_fen"))
        .collect()
    )
    return edges, amounts


def _dated(run_dir: Path, table: str, business_id: int, as_of: date | None) -> pl.DataFrame | None:
    return _up_to(business_table(run_dir, table, business_id), table, as_of)


def _nonempty(frame: pl.DataFrame | None) -> pl.DataFrame | None:
    return frame if frame is not None and frame.height else None


def analyse_simulated(
    run_dir: Path,
    business_id: int,
    config: AnalysisConfig | None = None,
    *,
    as_of: date | None = None,
    justifications: dict[str, str] | None = None,
) -> CreditFile:
    """The credit file of one business of a simulated run, at the application or ``as_of``.

    ``justifications``: written justifications (合理性解释) of risky deviation-grid items.
    """
    inputs = load_simulated_application(run_dir, business_id, as_of=as_of)
    if justifications:
        inputs = inputs.model_copy(update={"justifications": dict(justifications)})
    return analyse_application(inputs, config)
