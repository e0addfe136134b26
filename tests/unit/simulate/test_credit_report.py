"""PBOC-style credit reports: valid status strings, consistency with the debts, the latent
discipline and the timeline, the schema, and reproducibility whatever the chunking."""

from __future__ import annotations

import copy
import itertools
import json
import re
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy.stats import spearmanr

from xiaowei.analysis.credit_report_schema import (
    HARD_QUERY_REASONS,
    CreditReportError,
    month_add,
    parse_enterprise,
    parse_personal,
    parse_report,
    status_string_problem,
)
from xiaowei.simulate import behaviour, credit_report
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.latent import month_index
from xiaowei.simulate.world import build_world, chunk

STATUS = re.compile(r"[N*1-7CGDZ#/]{60}")


@pytest.fixture(scope="module")
def world():
    return build_world(SimulationConfig(businesses=300, seed=3))


@pytest.fixture(scope="module")
def whole(world):
    ids = world.population.businesses["business_id"].to_numpy()
    c = chunk(world, 0, ids)
    return c, credit_report.render(c)


def _docs(rendered, name):
    return {d["business_id"]: d for d in rendered.documents[name]}


def _personal_accounts(doc):
    return [a for a in doc["PD01"] if a["E"] is not None]


def _transitions_ok(status: str) -> bool:
    """An independent reading of the rules: which code may follow which."""
    opened = status[0] != "/"
    for prev, cur in itertools.pairwise(status):
        if prev == "/":
            ok = cur == "/" or (not opened and cur in "N*")
        elif prev in "CGDZ":
            ok = cur == "/"
        elif prev in "N*#":
            ok = cur in "N*#1C"
        else:  # one level up at most; down in part (caught up on the oldest) or cured
            ok = cur in "NCDZG" or (cur.isdigit() and 1 <= int(cur) <= min(int(prev) + 1, 7))
        if not ok:
            return False
        opened = opened or cur != "/"
    return True


def test_every_status_string_is_a_valid_code_sequence(whole):
    _, r = whole
    n = 0
    for name in ("credit_reports/personal", "credit_reports/personal_refresh"):
        for doc in r.documents[name]:
            for acc in _personal_accounts(doc):
                s = acc["E"]["status"]
                assert STATUS.fullmatch(s), s
                assert _transitions_ok(s), s
                assert status_string_problem(s) is None, s
                n += 1
    assert n > 500
    # the rules reject what they should
    for ok in ("/" * 50 + "*NN1NN12NN", "/" * 50 + "*N123211NN", "/" * 50 + "*N1234561N"):
        assert status_string_problem(ok) is None, ok
    for bad in (
        "/" * 50 + "*NN1NN13NN",  # 1 cannot jump to 3
        "/" * 50 + "*NN1NN1/NN",  # no gap in an open account
        "/" * 50 + "*NNCN/////",  # nothing after a closure
        "/" * 50 + "*NNNNNNNND",  # a guarantor pays only after a delinquency
        "/" * 50 + "1NNNNNNNNN",  # an account opens on N or *
        "/" * 50 + "*NNNNNNNNX",  # unknown code
        "N" * 59,  # 59 months
    ):
        assert status_string_problem(bad) is not None, bad


def test_reporting_debts_are_accounts_with_the_same_terms(whole):
    c, r = whole
    truth = r.truth["credit_report_truth"].filter(pl.col("kind") == "application")
    shown = truth.filter(pl.col("origin") == "current")
    debts = c.debts.join(c.businesses.select("business_id", "legal_form"), on="business_id")
    reporting = set(debts.filter(pl.col("reports_to_bureau"))["debt_id"].to_list())
    silent = set(debts.filter(~pl.col("reports_to_bureau"))["debt_id"].to_list())
    assert set(shown["debt_id"].to_list()) == reporting
    assert not set(shown["debt_id"].to_list()) & silent
    assert silent, "the sample should have non-reporting lenders"
    assert shown["debt_id"].n_unique() == shown.height  # each debt once

    personal = _docs(r, "credit_reports/personal")
    enterprise = _docs(r, "credit_reports/enterprise")
    by_debt = {row["debt_id"]: row for row in debts.iter_rows(named=True)}
    for row in shown.iter_rows(named=True):
        d = by_debt[row["debt_id"]]
        company = d["legal_form"] != "个体工商户"
        expected = "enterprise" if company and d["borrower"] == "firm" else "personal"
        assert row["subject"] == expected
        if expected == "personal":
            acc = next(
                a
                for a in personal[d["business_id"]]["PD01"]
                if a["A"]["account_id"] == row["account_id"]
            )
            a, b = acc["A"], acc["B"]
            amount = a["amount_yuan"] if a["amount_yuan"] is not None else a["credit_limit_yuan"]
            assert a["account_type"] == d["account_type"]
            assert b["closed_date"] is None
        else:
            a = b = next(
                x
                for x in enterprise[d["business_id"]]["ED01"]
                if x["account_id"] == row["account_id"]
            )
            amount = a["amount_yuan"]
        assert a["institution"] == d["lender"]
        assert a["institution_type"] == d["institution_type"]
        assert a["open_date"] == d["opened"].isoformat()
        assert amount * 100 == d["principal_fen"]
        assert b["balance_yuan"] * 100 == d["balance_fen"]


def test_hidden_reporting_debts_are_in_the_report(whole):
    c, r = whole
    hidden = c.debts.filter(pl.col("reports_to_bureau") & ~pl.col("declared"))
    assert hidden.height >= 5
    truth = r.truth["credit_report_truth"].filter(pl.col("kind") == "application")
    caught = truth.filter(pl.col("hidden_reported"))
    assert set(caught["debt_id"].to_list()) == set(hidden["debt_id"].to_list())
    # the non-reporting hidden ones stay hidden
    unseen = c.debts.filter(~pl.col("reports_to_bureau") & ~pl.col("declared"))
    assert not set(unseen["debt_id"].to_list()) & set(truth["debt_id"].drop_nulls().to_list())


def _delinquent_months(doc) -> int:
    return sum(ch in "1234567" for a in _personal_accounts(doc) for ch in a["E"]["status"])


def test_delinquency_follows_discipline_and_foretells_default(whole):
    c, r = whole
    rows = [(b, _delinquent_months(d)) for b, d in _docs(r, "credit_reports/personal").items()]
    f = (
        pl.DataFrame(rows, schema=["business_id", "months"], orient="row")
        .join(c.truth.select("business_id", "credit_discipline"), on="business_id")
        .join(c.timeline.select("business_id", "default_month"), on="business_id")
    )
    rho = spearmanr(f["credit_discipline"], f["months"]).statistic
    assert rho < -0.25  # real signal …
    assert (f["months"] > 0).mean() < 0.4  # … but most owners have a clean history
    disciplined = f.filter(pl.col("credit_discipline") > 1.0)
    assert (disciplined["months"] == 0).mean() > 0.9
    undisciplined = f.filter(pl.col("credit_discipline") < -1.0)
    assert (undisciplined["months"] > 0).mean() > 0.3
    defaulted = f.filter(pl.col("default_month").is_not_null())["months"].mean()
    performing = f.filter(pl.col("default_month").is_null())["months"].mean()
    assert defaulted > 1.5 * performing
    # 3+ is rare: most delinquencies are 1s and 2s
    codes = "".join(
        a["E"]["status"]
        for d in r.documents["credit_reports/personal"]
        for a in _personal_accounts(d)
    )
    low = sum(codes.count(k) for k in "12")
    high = sum(codes.count(k) for k in "34567")
    assert low > 2 * high


def test_refresh_shows_precursor_inquiries_and_new_lenders(world, whole):
    c, r = whole
    refresh = _docs(r, "credit_reports/personal_refresh")
    apps = dict(c.businesses.select("business_id", "application_date").iter_rows())
    rates = {"precursor": [], "performing": []}
    new_accounts = {"precursor": [], "performing": []}
    for t in c.timeline.iter_rows(named=True):
        doc = refresh[t["business_id"]]
        app_m = month_index(apps[t["business_id"]])
        ref_m = month_index(date.fromisoformat(doc["PRH"]["report_time"][:10]))
        if t["precursor_start"] is not None:
            lo, hi, group = (
                max(t["precursor_start"], app_m + 1),
                min(t["default_month"], ref_m),
                "precursor",
            )
            if lo > hi:
                continue
        elif t["default_month"] is None:
            lo, hi, group = app_m + 1, ref_m, "performing"
        else:
            continue
        hard = [
            q
            for q in doc["PH01"]
            if q["reason"] in HARD_QUERY_REASONS
            and lo <= month_index(date.fromisoformat(q["date"])) <= hi
        ]
        rates[group].append(len(hard) / (hi - lo + 1))
        opened = [  # new lenders: our own loan is opened after the application for everyone
            a
            for a in doc["PD01"]
            if a["A"]["open_date"] > apps[t["business_id"]].isoformat()
            and a["A"]["institution"] != credit_report.OWN_INSTITUTION
        ]
        new_accounts[group].append(len(opened))
    assert len(rates["precursor"]) >= 8
    assert np.mean(rates["precursor"]) > 4 * np.mean(rates["performing"])
    assert np.mean(new_accounts["precursor"]) > 3 * np.mean(new_accounts["performing"])
    # the application report never shows an account opened after the application
    for doc in r.documents["credit_reports/personal"]:
        day = doc["PRH"]["report_time"][:10]
        assert all(a["A"]["open_date"] <= day for a in doc["PD01"])
        assert all(q["date"] < day for q in doc["PH01"])


def test_refresh_continues_the_application_history(whole):
    c, r = whole
    follow = c.config.follow_months
    app = _docs(r, "credit_reports/personal")
    refresh = _docs(r, "credit_reports/personal_refresh")
    shared = 0
    for bid, doc in app.items():
        later = {a["A"]["account_id"]: a for a in refresh[bid]["PD01"]}
        for acc in _personal_accounts(doc):
            other = later.get(acc["A"]["account_id"])
            if other is None:  # closed more than 60 months before the refresh
                assert acc["B"]["closed_date"] is not None
                continue
            assert other["A"] == acc["A"]
            assert other["E"]["start_month"] == month_add(acc["E"]["start_month"], follow)
            assert other["E"]["status"][: 60 - follow] == acc["E"]["status"][follow:]
            shared += 1
    assert shared > 300


def test_guarantees_given_follow_the_borrowers_timeline(whole):
    c, r = whole
    personal = _docs(r, "credit_reports/personal_refresh")
    enterprise = _docs(r, "credit_reports/enterprise")
    forms = dict(c.businesses.select("business_id", "legal_form").iter_rows())
    borrowers = {g["business_id"]: g for g in c.guaranteed.iter_rows(named=True)}
    checked = worse = 0
    for e in c.edges.filter(pl.col("guarantor_id").is_in(list(forms))).iter_rows(named=True):
        g = borrowers[e["borrower_id"]]
        company = forms[e["guarantor_id"]] != "个体工商户"
        doc = enterprise[e["guarantor_id"]] if company else personal[e["guarantor_id"]]
        day = (doc["ERH"] if company else doc["PRH"])["report_time"][:10]
        rows = [
            x
            for x in doc["ED03" if company else "PD03"]
            if x["borrower_name"] == g["business_name"]
        ]
        if g["booking_date"].isoformat() > day:
            assert not rows
            continue
        defaulted = g["default_month"] is not None and g["default_month"] <= month_index(
            date.fromisoformat(day)
        )
        if not rows:  # settled: prepaid or matured without default
            assert not defaulted
            continue
        (row,) = rows
        assert row["open_date"] == g["booking_date"].isoformat()
        assert (row["five_category"] != "1") == defaulted
        assert (row["overdue_months"] > 0) == defaulted
        checked += 1
        worse += defaulted
    assert checked >= 10
    # the summary adds the liabilities up
    for doc in r.documents["credit_reports/personal_refresh"]:
        s = doc["PC02"]["guarantees"]
        assert s["accounts"] == len(doc["PD03"])
        assert s["balance_yuan"] == sum(x["balance_yuan"] for x in doc["PD03"])


def test_public_records_after_default_appear_in_the_refresh(whole):
    c, r = whole
    app = _docs(r, "credit_reports/personal")
    refresh = _docs(r, "credit_reports/personal_refresh")
    defaults = dict(c.timeline.select("business_id", "default_month").iter_rows())
    sued_after = 0
    for bid, doc in refresh.items():
        for j in doc["PF"]["PF02"]:
            if j["cause"] == "金融借款合同纠纷" and j not in app[bid]["PF"]["PF02"]:
                assert defaults[bid] is not None
                assert month_index(date.fromisoformat(j["filing_date"])) > defaults[bid]
                sued_after += 1
        for x in doc["PF"]["PF03"]:
            assert (x["status"] == "执行中") == (x["closing_date"] is None)
    assert sued_after >= 1
    disc = dict(c.truth.select("business_id", "credit_discipline").iter_rows())
    with_records = [bid for bid, d in app.items() if any(d["PF"].values())]
    assert with_records
    assert np.mean([disc[b] for b in with_records]) < 0  # more among the undisciplined


def test_documents_validate_with_the_schema(whole):
    _, r = whole
    for name, docs in r.documents.items():
        assert docs, name
        for doc in docs:
            parsed = parse_report(doc)
            assert parsed.report_id == doc["report_id"]
    # the documents are plain JSON (no dates, no numpy scalars)
    json.dumps(r.documents, ensure_ascii=False, sort_keys=True)


def _first_with(docs, pred):
    return copy.deepcopy(next(d for d in docs if pred(d)))


def test_malformed_documents_name_segment_and_field(whole):
    _, r = whole
    personal = r.documents["credit_reports/personal"]
    doc = _first_with(personal, lambda d: len(d["PD01"]) >= 2 and d["PD01"][1]["E"])
    doc["PD01"][1]["E"]["status"] = "X" + doc["PD01"][1]["E"]["status"][1:]
    with pytest.raises(CreditReportError) as err:
        parse_personal(doc)
    assert (err.value.segment, err.value.field_name, err.value.path) == (
        "PD01",
        "status",
        "PD01[1].E.status",
    )

    doc = _first_with(personal, lambda d: True)
    del doc["PC05"]["queries_1m_loan"]
    with pytest.raises(CreditReportError) as err:
        parse_personal(doc)
    assert (err.value.segment, err.value.field_name) == ("PC05", "queries_1m_loan")

    doc = _first_with(personal, lambda d: any(a["A"]["account_type"] == "D1" for a in d["PD01"]))
    i = next(k for k, a in enumerate(doc["PD01"]) if a["A"]["account_type"] == "D1")
    doc["PD01"][i]["A"]["amount_yuan"] = str(doc["PD01"][i]["A"]["amount_yuan"])  # no coercion
    with pytest.raises(CreditReportError) as err:
        parse_personal(doc)
    assert (err.value.segment, err.value.field_name) == ("PD01", "amount_yuan")

    doc = _first_with(personal, lambda d: True)
    doc["PRH"]["extra"] = 1
    with pytest.raises(CreditReportError) as err:
        parse_personal(doc)
    assert (err.value.segment, err.value.field_name) == ("PRH", "extra")

    doc = _first_with(personal, lambda d: any(a["E"] and a["E"]["overdue"] for a in d["PD01"]))
    acc = next(a for a in doc["PD01"] if a["E"] and a["E"]["overdue"])
    acc["E"]["overdue"].pop()
    with pytest.raises(CreditReportError) as err:
        parse_personal(doc)
    assert (err.value.segment, err.value.field_name) == ("PD01", "overdue")
    assert "1-7" in str(err.value)

    doc = _first_with(personal, lambda d: True)
    doc["PH01"].append(
        {"date": "2031-01-01", "institution_type": "11", "institution": "x", "reason": "02"}
    )
    with pytest.raises(CreditReportError) as err:
        parse_personal(doc)
    assert (err.value.segment, err.value.field_name) == ("PH01", "PH01")

    doc = _first_with(personal, lambda d: True)
    del doc["PD03"]
    with pytest.raises(CreditReportError) as err:
        parse_personal(doc)
    assert (err.value.segment, err.value.field_name) == ("PD03", "PD03")

    ent = _first_with(
        r.documents["credit_reports/enterprise"], lambda d: d["EC01"]["balance_yuan"] > 0
    )
    ent["EC01"]["bad_yuan"] += 1
    with pytest.raises(CreditReportError) as err:
        parse_enterprise(ent)
    assert (err.value.segment, err.value.field_name) == ("EC01", "bad_yuan")
    assert isinstance(err.value, ValueError)


def test_same_bytes_whatever_the_chunking(world, whole):
    _, r = whole
    ids = world.population.businesses["business_id"].to_numpy()[:40]
    pieces = [
        credit_report.render(chunk(world, i, ids[s : s + 7])) for i, s in enumerate(range(0, 40, 7))
    ]
    keep = {int(x) for x in ids}
    for name, docs in r.documents.items():
        expected = [
            json.dumps(d, sort_keys=True, ensure_ascii=False)
            for d in docs
            if d["business_id"] in keep
        ]
        assert expected, name  # every collection, the enterprise refresh too, is compared
        got = [
            json.dumps(d, sort_keys=True, ensure_ascii=False)
            for p in pieces
            for d in p.documents[name]
        ]
        assert got == expected, name
    for table, frames in (("credit_reports/index", "tables"), ("credit_report_truth", "truth")):
        whole_frame = getattr(r, frames)[table].filter(pl.col("business_id").is_in(list(keep)))
        parts = pl.concat([getattr(p, frames)[table] for p in pieces])
        assert_frame_equal(parts, whole_frame)
    again = credit_report.render(chunk(world, 0, ids))
    assert [json.dumps(d, sort_keys=True) for d in again.documents["credit_reports/personal"]] == [
        json.dumps(d, sort_keys=True)
        for d in r.documents["credit_reports/personal"]
        if d["business_id"] in keep
    ]


def test_index_is_observable_and_complete(whole):
    c, r = whole
    index = r.tables["credit_reports/index"]
    assert index.columns == ["report_id", "business_id", "subject", "kind", "report_date"]
    assert index["report_id"].n_unique() == index.height
    companies = c.businesses.filter(pl.col("legal_form") != "个体工商户").height
    counts = dict(
        index.group_by("subject", "kind")
        .len()
        .select(pl.concat_str("subject", "kind", separator="/"), "len")
        .iter_rows()
    )
    assert counts == {
        "personal/application": c.businesses.height,
        "personal/refresh": c.businesses.height,
        "enterprise/application": companies,
        "enterprise/refresh": companies,
    }
    truth = r.truth["credit_report_truth"]
    assert set(truth["report_id"].to_list()) <= set(index["report_id"].to_list())


def test_no_refresh_without_follow_window():
    w = build_world(SimulationConfig(businesses=30, seed=5, follow_months=0))
    ids = w.population.businesses["business_id"].to_numpy()
    out = credit_report.render(chunk(w, 0, ids))
    assert "credit_reports/personal_refresh" not in out.documents
    assert "credit_reports/enterprise_refresh" not in out.documents
    assert out.documents["credit_reports/enterprise"]
    assert set(out.tables["credit_reports/index"]["kind"].to_list()) == {"application"}
    for doc in out.documents["credit_reports/personal"]:
        parse_personal(doc)


# --- our own loan in the refresh ----------------------------------------------------------------


@pytest.fixture(scope="module")
def own(whole):
    """Our loan, its refresh account (if any), and behaviour's rendered tables."""
    c, r = whole
    loans = behaviour.render(c)
    forms = dict(c.businesses.select("business_id", "legal_form").iter_rows())
    accounts = {}
    for doc in r.documents["credit_reports/personal_refresh"]:
        mine = [a for a in doc["PD01"] if a["A"]["institution"] == credit_report.OWN_INSTITUTION]
        accounts[doc["business_id"]] = (doc, mine)
    return c, r, loans, forms, accounts


def _yuan(fen: int) -> int:
    return (int(fen) + 50) // 100


def _level(dpd: int) -> int:
    """Status digit of days past due: 1–30 → 1, 31–60 → 2, …, 181+ → 7."""
    return min((dpd + 29) // 30, 7)


def _outcomes_by_day(tables, cut: dict[int, date], grace: int) -> dict[int, dict]:
    """``loans/outcomes`` of each loan at its own date (behaviour's pure function)."""
    loans, schedule, repayments = (
        tables[k] for k in ("loans/loans", "loans/schedule", "loans/repayments")
    )
    out = {}
    for day in sorted(set(cut.values())):
        ids = [k for k, d in cut.items() if d == day]
        keep = pl.col("loan_id").is_in(ids)
        perf = behaviour.outcomes(
            loans.filter(keep),
            schedule.filter(keep),
            repayments.filter(keep),
            as_of=day,
            grace_days=grace,
        )
        out.update({row["loan_id"]: row for row in perf.iter_rows(named=True)})
    return out


def _principal_left(tables, as_of: dict[int, date]) -> dict[int, int]:
    """Principal less the principal repaid by each loan's day (fen), read from the records:
    an installment's payments go to its interest first (penalties aside), a prepayment pays
    off the principal, a recovery goes to principal first."""
    cut = pl.DataFrame(
        {"loan_id": list(as_of), "cut": list(as_of.values())},
        schema={"loan_id": pl.Int64, "cut": pl.Date},
    )
    paid = (
        tables["loans/repayments"]
        .join(cut, on="loan_id")
        .filter(pl.col("pay_date") <= pl.col("cut"))
    )
    per_installment = (
        paid.filter(pl.col("installment").is_not_null())
        .group_by("loan_id", "installment")
        .agg((pl.col("amount_fen") - pl.col("penalty_fen")).sum().alias("paid"))
        .join(
            tables["loans/schedule"].select(
                "loan_id", pl.col("number").alias("installment"), "principal_fen", "interest_fen"
            ),
            on=["loan_id", "installment"],
        )
        .group_by("loan_id")
        .agg(
            pl.min_horizontal(
                pl.col("principal_fen"), (pl.col("paid") - pl.col("interest_fen")).clip(0, None)
            )
            .sum()
            .alias("principal_repaid")
        )
    )
    repaid = dict(per_installment.iter_rows())
    kinds = paid.group_by("loan_id").agg(
        (pl.col("kind") == "prepayment").any().alias("prepaid"),
        pl.col("amount_fen").filter(pl.col("kind") == "recovery").sum().alias("recovered"),
    )
    extra = {row["loan_id"]: row for row in kinds.iter_rows(named=True)}
    principal = dict(tables["loans/loans"].select("loan_id", "principal_fen").iter_rows())
    out = {}
    for loan_id in as_of:
        x = extra.get(loan_id, {"prepaid": False, "recovered": 0})
        left = 0 if x["prepaid"] else principal[loan_id] - repaid.get(loan_id, 0) - x["recovered"]
        out[loan_id] = max(left, 0)
    return out


def _five_category(dpd: int) -> str:
    """五级分类 by days past due: 0 → 1, 1–90 → 2, 91–180 → 3, 181–360 → 4, beyond → 5."""
    if dpd <= 0:
        return "1"
    return "2" if dpd <= 90 else "3" if dpd <= 180 else "4" if dpd <= 360 else "5"


def test_refresh_shows_our_loan_once_as_the_borrower_s_account(own):
    _, r, rendered, forms, accounts = own
    loans = {
        row["business_id"]: row for row in rendered.tables["loans/loans"].iter_rows(named=True)
    }
    schedule = rendered.tables["loans/schedule"]
    shown = 0
    for bid, (doc, mine) in accounts.items():
        day = doc["PRH"]["report_time"][:10]
        loan = loans[bid]
        sole = forms[bid] == "个体工商户"
        if not sole or loan["start_date"].isoformat() >= day:
            assert mine == []  # a company's loan is the firm's (enterprise report)
            continue
        (acc,) = mine
        a = acc["A"]
        rows = schedule.filter(pl.col("loan_id") == loan["loan_id"])
        assert a["account_id"] == f"P{bid:08d}800"
        assert (a["account_type"], a["institution_type"], a["business_type"]) == ("D1", "51", "41")
        assert a["open_date"] == loan["start_date"].isoformat()
        assert a["amount_yuan"] * 100 == loan["principal_fen"]
        assert a["installments"] == rows.height == loan["term_months"]
        assert a["due_date"] == rows["due_date"].max().isoformat()
        method = {"equal-installment": "11", "equal-principal": "12", "interest-only": "13"}
        assert a["repayment_method"] == method[loan["method"]]
        assert a["repayment_frequency"] == "03"
        if acc["C"] is not None:  # open: this month's installment and those not yet due
            month = rows.filter(pl.col("due_date").dt.strftime("%Y-%m") == day[:7])
            owed = int((month["principal_fen"] + month["interest_fen"]).sum())
            assert acc["C"]["due_yuan"] == _yuan(owed)
            assert (
                acc["C"]["remaining_periods"]
                == rows.filter(pl.col("due_date") >= date.fromisoformat(day)).height
            )
        shown += 1
    assert shown > 150
    # never in the application reports
    for doc in r.documents["credit_reports/personal"]:
        assert all(a["A"]["institution"] != credit_report.OWN_INSTITUTION for a in doc["PD01"])
    truth = r.truth["credit_report_truth"].filter(
        (pl.col("origin") == "own_loan") & (pl.col("subject") == "personal")
    )
    assert truth.height == shown
    assert set(truth["kind"].to_list()) == {"refresh"}
    assert set(truth["account_id"].to_list()) == {
        m[0]["A"]["account_id"] for _, m in accounts.values() if m
    }


def test_our_loan_agrees_with_the_repayment_records(own):
    c, _, rendered, _, accounts = own
    grace = behaviour.catalogue_product(c.config.product_code).overdue_grace_days
    shown = {bid: (doc, m[0]) for bid, (doc, m) in accounts.items() if m}
    as_of = {
        bid: date.fromisoformat(doc["PRH"]["report_time"][:10]) - timedelta(days=1)
        for bid, (doc, _) in shown.items()
    }
    at_report = _outcomes_by_day(rendered.tables, as_of, grace)

    left = _principal_left(rendered.tables, as_of)

    checked = {"closed": 0, "late": 0, "overdue": 0, "prepaid": 0}
    for bid, (_doc, acc) in shown.items():
        o = at_report[bid]
        b, status = acc["B"], acc["E"]["status"]
        assert b["balance_yuan"] == _yuan(left[bid]) == _yuan(o["principal_outstanding_fen"])
        if o["closed"]:  # settled (prepaid or paid off): C, then nothing
            assert status.rstrip("/")[-1] == "C"
            assert (b["account_status"], b["repayment_status"]) == ("3", "C")
            assert b["closed_date"] is not None
            assert acc["C"] is None
            checked["closed"] += 1
            checked["prepaid"] += o["prepaid"]
        else:
            assert "C" not in status
            assert status[-1] == b["repayment_status"]
            assert b["closed_date"] is None
            assert acc["C"] is not None
            assert b["account_status"] == ("2" if o["dpd"] > 0 else "1")
            assert (acc["C"]["overdue_periods"] > 0) == (o["dpd"] > 0)
            checked["overdue"] += o["dpd"] > 0
            assert b["five_category"] == _five_category(o["dpd"])
        assert status.lstrip("/")[0] == "*"  # nothing due in the month the loan starts
        checked["late"] += o["max_dpd"] > 0
    assert checked["closed"] >= 20
    assert checked["prepaid"] >= 5
    assert checked["late"] >= 20
    assert checked["overdue"] >= 5

    # The worst status digit is the level of the worst days past due: at the report for an
    # open loan; before the month it was settled in for a settled one (that month shows C).
    worst_cut = {}
    for bid, (_doc, acc) in shown.items():
        closed = acc["B"]["closed_date"]
        if closed is None:
            worst_cut[bid] = as_of[bid]
        else:
            worst_cut[bid] = date.fromisoformat(closed).replace(day=1) - timedelta(days=1)
    worst = _outcomes_by_day(rendered.tables, worst_cut, grace)
    levels = []
    for bid, (_doc, acc) in shown.items():
        digits = [int(ch) for ch in acc["E"]["status"] if ch.isdigit()]
        expected = _level(worst[bid]["max_dpd"]) if bid in worst else 0
        assert max(digits, default=0) == expected, (bid, acc["E"]["status"])
        levels.append(expected)
    assert max(levels) == 7
    assert sum(1 <= x < 7 for x in levels) >= 10
    # and ``loans/outcomes``, at the later horizon, has seen at least as much
    horizon = {
        row["loan_id"]: row for row in rendered.tables["loans/outcomes"].iter_rows(named=True)
    }
    for bid, (_doc, acc) in shown.items():
        later = horizon[bid]
        assert later["max_dpd"] >= at_report[bid]["max_dpd"]
        assert later["principal_outstanding_fen"] <= at_report[bid]["principal_outstanding_fen"]
        if acc["B"]["closed_date"] is not None:
            assert later["closed"]


def test_no_post_loan_checks_after_our_loan_is_settled(own):
    _, _, _, _, accounts = own
    settled = 0
    for doc, mine in accounts.values():
        if not mine or mine[0]["B"]["closed_date"] is None:
            continue
        closed = mine[0]["B"]["closed_date"]
        ours = [q for q in doc["PH01"] if q["institution"] == credit_report.OWN_INSTITUTION]
        assert all(q["date"] < closed for q in ours if q["reason"] == "01")
        settled += 1
    assert settled >= 20


# --- our loan to a company in its enterprise refresh -------------------------------------------


def test_enterprise_refresh_shows_our_loan_to_every_company(own):
    c, r, rendered, forms, _ = own
    grace = behaviour.catalogue_product(c.config.product_code).overdue_grace_days
    refresh = _docs(r, "credit_reports/enterprise_refresh")
    personal = _docs(r, "credit_reports/personal_refresh")
    companies = {bid for bid, form in forms.items() if form != "个体工商户"}
    assert set(refresh) == companies  # sole proprietors get no enterprise refresh
    loans = {
        row["business_id"]: row for row in rendered.tables["loans/loans"].iter_rows(named=True)
    }
    as_of, mine = {}, {}
    for bid, doc in refresh.items():
        parse_enterprise(doc)
        assert doc["kind"] == "refresh"
        assert doc["ERH"]["query_reason"] == "01"  # 贷后管理
        day = date.fromisoformat(doc["ERH"]["report_time"][:10])
        assert doc["ERH"]["report_time"] == personal[bid]["PRH"]["report_time"]  # same day
        ours = [a for a in doc["ED01"] if a["institution"] == credit_report.OWN_INSTITUTION]
        if loans[bid]["start_date"] >= day:
            assert ours == []
            continue
        (acc,) = ours  # exactly one
        as_of[loans[bid]["loan_id"]] = day - timedelta(days=1)
        mine[loans[bid]["loan_id"]] = acc
    assert len(mine) >= 60
    at_report = _outcomes_by_day(rendered.tables, as_of, grace)
    left = _principal_left(rendered.tables, as_of)
    checked = {"settled": 0, "open": 0, "overdue": 0, "worse": 0}
    for loan_id, acc in mine.items():
        loan, o = loans[loan_id], at_report[loan_id]
        assert acc["account_id"] == f"E{loan['business_id']:08d}800"
        assert (acc["account_type"], acc["institution_type"]) == ("D1", "51")
        assert acc["amount_yuan"] * 100 == loan["principal_fen"]
        assert acc["open_date"] == loan["start_date"].isoformat()
        assert acc["business_type"] == ("11" if loan["term_months"] <= 12 else "12")
        assert acc["balance_yuan"] == _yuan(left[loan_id]) == _yuan(o["principal_outstanding_fen"])
        assert acc["worst_five_category"] == _five_category(o["max_dpd"])
        if o["closed"]:
            assert (acc["account_status"], acc["five_category"]) == ("2", None)
            assert acc["closed_date"] is not None
            assert acc["balance_yuan"] == 0
            checked["settled"] += 1
        else:
            assert acc["account_status"] == "1"
            assert acc["closed_date"] is None
            assert acc["five_category"] == _five_category(o["dpd"])
            assert acc["report_date"] == as_of[loan_id].isoformat()
            assert (acc["overdue_yuan"] > 0) == (o["dpd"] > 0)
            assert acc["overdue_principal_yuan"] <= acc["overdue_yuan"]
            checked["open"] += 1
            checked["overdue"] += o["dpd"] > 0
            checked["worse"] += acc["five_category"] in ("3", "4", "5")
    assert checked["settled"] >= 10
    assert checked["open"] >= 10
    assert checked["overdue"] >= 2
    assert checked["worse"] >= 1

    # truth: one own_loan row per account shown, in the enterprise refresh only
    truth = r.truth["credit_report_truth"].filter(
        (pl.col("origin") == "own_loan") & (pl.col("subject") == "enterprise")
    )
    assert set(truth["kind"].to_list()) == {"refresh"}
    assert sorted(truth["account_id"].to_list()) == sorted(a["account_id"] for a in mine.values())
    # never in an application report, nor in the owner's personal refresh of a company
    for doc in r.documents["credit_reports/enterprise"]:
        assert all(a["institution"] != credit_report.OWN_INSTITUTION for a in doc["ED01"])
    for bid in companies:
        assert all(
            a["A"]["institution"] != credit_report.OWN_INSTITUTION for a in personal[bid]["PD01"]
        )


def test_enterprise_refresh_continues_the_firm_s_accounts(whole):
    _, r = whole
    app = _docs(r, "credit_reports/enterprise")
    refresh = _docs(r, "credit_reports/enterprise_refresh")
    truth = r.truth["credit_report_truth"].filter(pl.col("subject") == "enterprise")
    debts = {
        kind: set(
            truth.filter((pl.col("kind") == kind) & (pl.col("origin") == "current"))[
                "debt_id"
            ].to_list()
        )
        for kind in ("application", "refresh")
    }
    assert debts["application"]
    assert debts["application"] == debts["refresh"]
    assert truth.filter(pl.col("origin") == "after_application").height == 0
    running = 0
    for bid, doc in app.items():
        later = {a["account_id"]: a for a in refresh[bid]["ED01"]}
        for acc in doc["ED01"]:
            other = later.get(acc["account_id"])
            if other is None:  # closed more than 60 months before the refresh
                assert acc["account_status"] == "2"
                continue
            for key in ("institution", "amount_yuan", "open_date", "due_date", "account_type"):
                assert other[key] == acc[key]
            if acc["account_status"] == "2":
                # settled before the application: unchanged, but for the worst class of the
                # last five years, which may have left the window
                assert other["worst_five_category"] <= acc["worst_five_category"]
                assert {**other, "worst_five_category": None} == {
                    **acc,
                    "worst_five_category": None,
                }
            running += other["account_status"] == "1"
        summary = refresh[bid]["EC01"]
        open_accounts = [a for a in refresh[bid]["ED01"] if a["account_status"] == "1"]
        assert summary["balance_yuan"] == sum(a["balance_yuan"] for a in open_accounts)
        assert summary["overdue_yuan"] == sum(a["overdue_yuan"] for a in open_accounts)
    assert running >= 1
