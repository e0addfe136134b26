"""Use case: the credit file (信贷档案) of one business of a simulated run.

Reads only the run's observable tables (never ``truth/``): each table is scanned lazily and
filtered to the business (``pl.scan_parquet(...).filter(business_id)``), the personal credit
report is taken from ``credit_reports/personal/*.jsonl``. The observable data holds no list of
the lenders the applicant declared (the IPC balance sheet has loan lines without lender names,
``parties`` lists spouse, partners and guarantors), so ``declared_lenders`` stays ``None`` and
the credit file says so.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from xiaowei.analysis import soft
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


def _table(run_dir: Path, name: str, business_id: int) -> pl.DataFrame | None:
    folder = run_dir / name
    if not any(folder.glob("part-*.parquet")):
        return None
    return (
        pl.scan_parquet(folder / "part-*.parquet")
        .filter(pl.col("business_id") == business_id)
        .collect()
    )


def _personal_report(run_dir: Path, business_id: int) -> dict[str, Any] | None:
    for part in sorted((run_dir / "credit_reports" / "personal").glob("part-*.jsonl")):
        with part.open(encoding="utf-8") as fh:
            for line in fh:
                if f'"business_id":{business_id},' not in line.replace(" ", ""):
                    continue
                doc = json.loads(line)
                if doc.get("business_id") == business_id:
                    return doc  # type: ignore[no-any-return]
    return None


def load_simulated_application(
    run_dir: Path, business_id: int, annual_rate: Decimal = DEFAULT_ANNUAL_RATE
) -> ApplicationInputs:
    """The observable inputs of one business of a simulated run (never ``truth/``)."""
    if not (run_dir / "manifest.json").is_file():
        raise NotFound(f"no simulator run at {run_dir} (manifest.json missing)")
    business = _table(run_dir, "businesses", business_id)
    if business is None or business.height == 0:
        raise NotFound(f"no business {business_id} in {run_dir}")
    biz = business.row(0, named=True)
    owners = _table(run_dir, "owners", business_id)
    parties = _table(run_dir, "parties", business_id)
    accounts = _table(run_dir, "statements/accounts", business_id)
    own: list[str] = [biz["business_name"]]
    if accounts is not None:
        own += accounts["account_no"].to_list() + accounts["holder_name"].to_list()
    profile: soft.OwnerProfile | None = None
    if owners is not None and owners.height:
        o = owners.row(0, named=True)
        own.append(o["name"])
        spouse = parties is not None and (parties["role"] == "spouse").any()
        if spouse and parties is not None:
            own += parties.filter(pl.col("role") == "spouse")["name"].to_list()
        marital = _MARITAL.get(o["marital_status"])
        education = _EDUCATION.get(o["education"])
        if marital is None or education is None:
            raise InvalidInput(
                "owners", f"unknown marital status or education {o['marital_status']!r}"
            )
        profile = soft.OwnerProfile(
            age=o["age"],
            marital_status=marital,
            education=education,
            years_in_business=float(biz["years_in_business"]),
            years_at_residence=float(o["years_at_residence"]),
            household_size=o["household_size"],
            children=o["children"],
            spouse_involved=bool(spouse) and marital is soft.MaritalStatus.MARRIED,
            # the run records no residence permit (户籍) or home ownership: not guessed
            local_resident=False,
        )
    doc = _personal_report(run_dir, business_id)
    return ApplicationInputs(
        business_id=business_id,
        as_of=biz["application_date"],
        industry=biz["industry"],
        employees=biz["employees"],
        statements=_table(run_dir, "statements/transactions", business_id),
        own_identities=tuple(x for x in dict.fromkeys(own) if x),
        declared_lenders=None,
        balance_sheets=_table(run_dir, "financials/balance_sheets", business_id),
        income_monthly=_table(run_dir, "financials/income_monthly", business_id),
        products=_table(run_dir, "financials/products", business_id),
        equity_inputs=_table(run_dir, "financials/equity_reconciliation_inputs", business_id),
        pos_settlements=_nonempty(_table(run_dir, "pos/settlements", business_id)),
        ecommerce=_nonempty(_table(run_dir, "ecommerce/store_monthly", business_id)),
        attendance=_nonempty(_table(run_dir, "workplace/attendance", business_id)),
        personal_report=parse_personal(doc) if doc is not None else None,
        requested_amount_fen=biz["requested_amount_fen"],
        term_months=biz["requested_term"],
        annual_rate=annual_rate,
        owner_profile=profile,
    )


def _nonempty(frame: pl.DataFrame | None) -> pl.DataFrame | None:
    return frame if frame is not None and frame.height else None


def analyse_simulated(
    run_dir: Path, business_id: int, config: AnalysisConfig | None = None
) -> CreditFile:
    """The credit file of one business of a simulated run."""
    return analyse_application(load_simulated_application(run_dir, business_id), config)
