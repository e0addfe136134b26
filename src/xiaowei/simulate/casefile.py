"""One business's investigation file (调查档案), assembled from a simulator run.

The course's first practical case, 贷款调查的基本流程, follows one applicant from the first
contact to a complete file. :func:`build_casefile` collects, for one ``business_id``, what the
officer has at each step, reading only the run's *observable* tables (never ``truth/``):

1. the lead (营销线索) and the first contact;
2. the application (借款申请): amount, term, purpose, the product's list of materials;
3. the visit (实地调查): the business, the owner's soft information (软信息), related
   parties and guarantors;
4. the reconstructed statements (IPC 财务重构): balance sheets at the check point and today,
   monthly sales and costs, product margins, disposable income;
5. the independent sources (交叉信息): bank statements by account and month, POS,
   e-commerce, workplace attendance;
6. the credit report (征信报告): accounts, delinquencies, inquiries, guarantees given.

What the file *means* (the cross-checks, the credit analysis) is issue 4's analysis layer; the
file here shows what was collected, with the simple sums an officer writes on the form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from xiaowei.analysis.credit_report_schema import HARD_QUERY_REASONS, parse_personal
from xiaowei.core.errors import InvalidInput, NotFound
from xiaowei.simulate.describe import load_manifest


def _scan(out: Path, table: str) -> pl.LazyFrame | None:
    folder = out / table
    if not any(folder.glob("part-*.parquet")):
        return None
    return pl.scan_parquet(folder / "part-*.parquet")


def _rows(out: Path, table: str, business_id: int) -> pl.DataFrame:
    scan = _scan(out, table)
    if scan is None:
        return pl.DataFrame()
    return scan.filter(pl.col("business_id") == business_id).collect()


def _document(out: Path, collection: str, business_id: int) -> dict[str, Any] | None:
    for part in sorted((out / collection).glob("part-*.jsonl")):
        with part.open(encoding="utf-8") as fh:
            for line in fh:
                # cheap pre-filter before parsing the whole line
                if f'"business_id":{business_id},' not in line:
                    continue
                doc: dict[str, Any] = json.loads(line)
                if doc.get("business_id") == business_id:
                    return doc
    return None


@dataclass(slots=True)
class CaseFile:
    """Everything the officer collected about one applicant, step by step."""

    business: dict[str, Any]
    owner: dict[str, Any]
    parties: list[dict[str, Any]]
    lead: dict[str, Any] | None
    application: dict[str, Any]
    balance_sheets: list[dict[str, Any]]
    income: pl.DataFrame  # month by month, fen
    products: list[dict[str, Any]]
    equity_inputs: dict[str, Any] | None
    accounts: list[dict[str, Any]]
    flows: pl.DataFrame  # month × (bank inflow/outflow, POS, e-commerce, attendance)
    credit_report: dict[str, Any] | None
    report_summary: dict[str, Any] = field(default_factory=dict)
    materials: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def plain(frame: pl.DataFrame) -> list[dict[str, Any]]:
            return json.loads(frame.write_json()) if frame.height else []

        return {
            "business": self.business,
            "owner": self.owner,
            "parties": self.parties,
            "lead": self.lead,
            "application": self.application,
            "balance_sheets": self.balance_sheets,
            "income": plain(self.income),
            "products": self.products,
            "equity_inputs": self.equity_inputs,
            "accounts": self.accounts,
            "flows": plain(self.flows),
            "credit_report_summary": self.report_summary,
            "materials": self.materials,
        }


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}


def build_casefile(out: Path, business_id: int) -> CaseFile:
    load_manifest(out)  # a clear error when ``out`` is not a run
    if business_id < 1:
        raise InvalidInput("business_id", f"{business_id} is not a business id (1, 2, …)")
    business = _rows(out, "businesses", business_id)
    if business.height == 0:
        raise NotFound(f"business {business_id} is not in {out}")
    b = _jsonable(business.row(0, named=True))
    owner = _rows(out, "owners", business_id)
    parties = _rows(out, "parties", business_id)
    leads = _scan(out, "leads/leads")
    lead = None
    if leads is not None:
        found = leads.filter(pl.col("business_id") == business_id).collect()
        if found.height:
            lead = _jsonable(found.row(0, named=True))
    app_date: date = business["application_date"][0]
    application = {
        "date": app_date.isoformat(),
        "amount_fen": b["requested_amount_fen"],
        "term_months": b["requested_term"],
        "purpose": b["loan_purpose"],
    }
    sheets = _rows(out, "financials/balance_sheets", business_id).sort("as_of")
    income = _rows(out, "financials/income_monthly", business_id).sort("month")
    products = _rows(out, "financials/products", business_id)
    equity = _rows(out, "financials/equity_reconciliation_inputs", business_id)
    accounts = _rows(out, "statements/accounts", business_id)
    flows = _monthly_sources(out, business_id, app_date)
    report = _document(out, "credit_reports/personal", business_id)
    return CaseFile(
        business=b,
        owner=_jsonable(owner.row(0, named=True)) if owner.height else {},
        parties=[_jsonable(r) for r in parties.iter_rows(named=True)],
        lead=lead,
        application=application,
        balance_sheets=[_jsonable(r) for r in sheets.iter_rows(named=True)],
        income=income,
        products=[_jsonable(r) for r in products.iter_rows(named=True)],
        equity_inputs=_jsonable(equity.row(0, named=True)) if equity.height else None,
        accounts=[_jsonable(r) for r in accounts.iter_rows(named=True)],
        flows=flows,
        credit_report=report,
        report_summary=summarise_report(report, app_date) if report else {},
        materials=_materials(out),
    )


def _monthly_sources(out: Path, business_id: int, app_date: date) -> pl.DataFrame:
    """Month by month, before the application: bank inflows and outflows (all accounts, own
    transfers between them included, as the statements show them), POS settlements,
    e-commerce GMV and attendance."""
    start = date(app_date.year - 1, app_date.month, 1)
    end = date(app_date.year, app_date.month, 1) - timedelta(days=1)
    months = pl.DataFrame({"month": pl.date_range(start, end, "1mo", eager=True)})
    tx = _rows(out, "statements/transactions", business_id)
    if tx.height:
        bank = (
            tx.filter(pl.col("date").is_between(start, end))
            .group_by(pl.col("date").dt.truncate("1mo").alias("month"))
            .agg(
                pl.col("amount_fen").filter(pl.col("direction") == "in").sum().alias("bank_in_fen"),
                pl.col("amount_fen")
                .filter(pl.col("direction") == "out")
                .sum()
                .alias("bank_out_fen"),
                pl.len().alias("transactions"),
            )
        )
        months = months.join(bank, on="month", how="left")
    pos = _rows(out, "pos/settlements", business_id)
    if pos.height:
        months = months.join(
            pos.group_by(pl.col("trade_date").dt.truncate("1mo").alias("month")).agg(
                pl.col("gross_fen").sum().alias("pos_fen")
            ),
            on="month",
            how="left",
        )
    store = _rows(out, "ecommerce/store_monthly", business_id)
    if store.height:
        months = months.join(
            store.group_by(pl.col("month").dt.truncate("1mo").alias("month")).agg(
                pl.col("gmv_fen").sum().alias("gmv_fen")
            ),
            on="month",
            how="left",
        )
    attendance = _rows(out, "workplace/attendance", business_id)
    if attendance.height:
        months = months.join(
            attendance.group_by(pl.col("date").dt.truncate("1mo").alias("month")).agg(
                (pl.col("present").sum() / pl.col("staff").sum()).round(3).alias("attendance")
            ),
            on="month",
            how="left",
        )
    return months.sort("month")


def summarise_report(report: dict[str, Any], as_of: date) -> dict[str, Any]:
    """The first look at a personal report: accounts, lenders, delinquencies, inquiries.

    The document is validated with the report schema first (a malformed report is an error
    naming its segment and field)."""
    parsed = parse_personal(report)
    open_accounts = [a for a in parsed.PD01 if a.B.account_status not in ("3", "5")]
    delinquent_months = 0
    worst = 0
    for account in parsed.PD01:
        levels = [int(c) for c in (account.E.status if account.E else "") if c.isdigit()]
        delinquent_months += sum(1 for v in levels if v >= 1)
        worst = max([worst, *levels])
    since = as_of - timedelta(days=730)
    hard = [q for q in parsed.PH01 if q.reason in HARD_QUERY_REASONS and q.date >= since]
    return {
        "accounts": len(parsed.PD01),
        "open_accounts": len(open_accounts),
        "open_lenders": sorted({a.A.institution for a in open_accounts}),
        "delinquent_months_60m": delinquent_months,
        "worst_status": worst,
        "hard_inquiries_24m": len(hard),
        "guarantees_given": len(parsed.PD03),
    }


def _materials(out: Path) -> list[str]:
    manifest = load_manifest(out)
    code = manifest.get("config", {}).get("product_code", "SME-OP")
    from xiaowei.lending.catalogue import load_catalogue

    for product in load_catalogue():
        if product.code == code:
            return list(product.materials)
    return []
