"""IPC financials (IPC财务报表): what a loan officer reconstructs on site.

The officer of an IPC-style lender (see ``shared/research/credit_analysis_methods.md`` §1) does
not use the borrower's books: on the visit the officer counts and asks, and builds

* two **balance sheets** (资产负债表): one at the application date (当前) and one at the
  **equity check point** (权益检验原始点), the end of a month 6–12 months before;
* a **monthly P&L** (损益表) for the 12 months before the application: sales month by month
  (销售额, as the owner states them), cost of goods from the **weighted gross margin** of the
  main products (加权毛利率 = Σ (1 − 进价/售价) × 销售占比), operating costs, household
  expenses (家庭开支) and the monthly disposable income (月可支配收入);
* a **product table** (产品毛利表): purchase and sale price and sales share of the main
  products;
* the **equity cross-check inputs** (权益交叉检验): period profit (期间利润, the sum of the
  disposable income of the months between the two sheets), capital injections (注资), owner
  withdrawals beyond the household budget of the P&L (提款: gifts, weddings, school fees,
  support of parents), appreciation (升值) and depreciation (折旧).

Everything is rendered from the latent business of :mod:`xiaowei.simulate.latent` and its
true monthly flows (:mod:`xiaowei.simulate.flows`): sales, gross margin, rent, payroll,
utilities, taxes, social insurance, household spending, and every debt with its ``declared``
flag.

Construction (every amount in integer fen, whole yuan):

1. **True sheets.** The check-point sheet is drawn from the industry's asset structure
   (inventory, receivable and fixed-asset months of :class:`~xiaowei.simulate.config.Industry`)
   and the business's sales level around that date, with every debt at its balance then
   (amortised back linearly from the application balance; revolving lines drawn near it; debts
   opened later are absent). The current sheet takes its items from the structure at the
   application date. The bank deposits (银行存款) of both sheets are what the bank statements
   show on those dates, read off them by the officer
   (:func:`xiaowei.simulate.statements.deposit_balances`, see :mod:`xiaowei.simulate.deposits`
   for the check point and the level). The plug that makes the true identity exact,
   ``E₁ = E₀ + P_true + injections + appreciation − withdrawals − depreciation``,
   is other operating assets (其他经营资产: money lent to relatives or customers) when
   positive and other liabilities (money owed to relatives, wages and taxes payable) when
   negative: the flows the statements carry and the items of the sheets drawn here do not
   balance by themselves (measured, 10,000 businesses: the plug's quartiles are about −0.5 and
   +0.7 months of sales, 44 % negative).
2. **The honest file.** ``P_clean`` is the P&L an honest owner would state: true sales with a
   small noise (±3 %), the margin of the stated products, true costs and the interest on every
   debt. The declared current sheet is the true one (the officer counts it). The declared
   check-point sheet is the officer's reconstruction of the past; its cash on hand (现金, the
   one item no document backs; a shortfall below zero becomes an other liability) absorbs the
   gap between the honest story and the truth plus a small reconciliation error
   ``η·|P_clean|`` (η ~ N(0, 2 %) for most, N(0, 8 %) for an eighth: the officer's own
   slips). For an honest business the deviation of the cross-check is therefore exactly
   ``η·|P_clean|``: about nine in ten pass at 5 %.
3. **Manipulations** act on that honest file, each moving the deviation
   ``expected − actual`` (偏差值) by a known amount:

   * *inflated sales* (虚增销售): monthly sales stated as true × ``sales_inflation`` (±4 %); 40 %
     of the inflaters also state products with a margin 3–8 points above the truth. Period
     profit, hence expected equity, is too high: deviation = the invented gross profit. Measured
     (10,000 businesses, seed 1): median 61 % of the stated period profit (quartiles 50–74 %;
     higher where the true profit is thin or negative).
   * *inflated assets* (虚增资产): 40 % of the inflaters also overstate the current inventory
     and receivables to cover 20–80 % of that gap (the actual equity rises towards the
     expected), so their deviation is smaller (median 30 %, quartiles 19–42 %) but their
     declared equity is above the truth. Half of them put the whole cover in the current bank
     deposits instead, above what the statements show (a balance shown before a large payment,
     a relative's deposit counted as theirs): the only declared deposits that differ from the
     statements (``overstated_deposits_fen`` in the truth).
   * *hidden debt* (隐瞒负债): undeclared debts (``declared`` false: a hider's non-bank debts,
     and the 3 % of debts honest owners forget) are left off both sheets and their interest off
     the P&L. Both equities are overstated by the hidden balance; the deviation is
     ``hidden balance at check point − hidden balance now + hidden interest``: positive
     (expected above actual) for old debts being repaid, negative (an equity rise the profit
     cannot explain, the classic sign of undisclosed borrowing) for debts taken after the
     check point. About 60 % of them fail at 10 %, in both directions: the equity check is a
     weak detector of hidden debt, the credit report and the statements are the strong ones.

The period of the cross-check runs from the check point (``period_start``, a month end) to the
application date (``period_end``); its profit is the disposable income of the ``months`` full
months in between. The deviation rate (偏差率) is the deviation over the absolute period profit.
:func:`xiaowei.analysis.financials.equity_cross_check` computes it; the analysis layer (issue 4)
owns the analysis version.

Tables (observable, money in Int64 fen, whole yuan):

* ``financials/balance_sheets``: business_id, as_of, kind (``check_point``/``current``), cash,
  bank_deposits, receivables, prepayments, inventory, equipment, vehicles, property,
  prepaid_rent, other_operating_assets, household_assets, payables, advance_receipts,
  short_term_loans (term ≤ 12 months or revolving), long_term_loans, private_loans (民间借贷),
  other_liabilities, total_assets, total_liabilities, equity (every amount ``*_fen``);
* ``financials/income_monthly``: business_id, month, sales_declared, cost_of_goods,
  gross_profit, rent (monthly accrual), wages, utilities, taxes, other_costs (social insurance
  and interest on declared debts), net_profit, household_expenses, disposable_income;
* ``financials/products``: business_id, product, purchase_price_fen, sale_price_fen,
  sales_share (sums to 1 per business);
* ``financials/equity_reconciliation_inputs``: business_id, period_start, period_end, months,
  period_profit, injections, withdrawals, appreciation, depreciation.

Truth ``financial_manipulation``: business_id, kind (``none``/``inflated_sales``/
``hidden_debt``/``inflated_assets``: the first that applies of inflated_assets, inflated_sales,
hidden_debt), the flags inflated_sales, inflated_margin, inflated_assets, hidden_debt,
hides_on_purpose, true and declared equities, equity_gap_fen (declared − true current equity
= undeclared debt + asset inflation), undeclared debt at both dates, asset_inflation_fen,
overstated_deposits_fen (its part in the current deposits), true and honest period profit, true
and declared 12-month sales, true and declared gross margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from xiaowei.analysis.financials import ASSET_COLUMNS, INCOME_COLUMNS, LIABILITY_COLUMNS
from xiaowei.simulate import statements
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.random import Stream
from xiaowei.simulate.world import Chunk

# Products (主要产品) per industry: Chinese name and a typical unit sale price in CNY.
PRODUCTS: dict[str, tuple[tuple[str, float], ...]] = {
    "trade": (
        ("粮油", 120.0),
        ("饮料酒水", 60.0),
        ("日用百货", 25.0),
        ("烟酒", 200.0),
        ("休闲食品", 30.0),
        ("建材五金", 80.0),
        ("洗化用品", 35.0),
    ),
    "manufacturing": (
        ("塑料配件", 8.0),
        ("五金件", 15.0),
        ("包装纸箱", 5.0),
        ("服装成衣", 60.0),
        ("模具", 2000.0),
        ("机械零件", 150.0),
    ),
    "service": (
        ("洗剪吹", 40.0),
        ("烫染套餐", 280.0),
        ("汽车保养", 350.0),
        ("家政服务", 200.0),
        ("洗衣护理", 30.0),
        ("美容护理", 180.0),
    ),
    "catering": (
        ("招牌菜", 68.0),
        ("家常菜", 32.0),
        ("火锅套餐", 158.0),
        ("酒水饮料", 12.0),
        ("面食小吃", 18.0),
        ("外卖套餐", 28.0),
    ),
    "agriculture": (
        ("生猪", 2800.0),
        ("蔬菜", 4.0),
        ("水果", 8.0),
        ("茶叶", 300.0),
        ("鸡蛋", 6.0),
        ("水产", 40.0),
    ),
    "ecommerce": (
        ("女装", 120.0),
        ("家居用品", 45.0),
        ("数码配件", 60.0),
        ("母婴用品", 80.0),
        ("美妆个护", 90.0),
        ("零食礼盒", 50.0),
    ),
}

# Shares and sizes of the items not in the industry table (documented design choices).
MARGIN_INFLATER_SHARE = 0.4  # inflaters who also state a higher product margin
ASSET_INFLATER_SHARE = 0.4  # inflaters who overstate current assets to cover the gap
DEPOSIT_OVERSTATER_SHARE = 0.5  # asset inflaters who also overstate the current deposits
INJECTION_SHARE = 0.12  # owners who put money in during the period (注资)
WITHDRAWAL_SHARE = 0.45  # owners who take money out beyond the household budget (提款)
CAPEX_SHARE = 0.25  # businesses that bought equipment or a vehicle in the period
REVALUATION_SHARE = 0.12  # property revalued upwards (升值)
SLIP_SHARE = 0.12  # officer's reconciliation slips: the wide part of η
ETA_SD, SLIP_SD = 0.02, 0.08

# The officer's lines are the analysis layer's (one list, one meaning).
BALANCE_COLUMNS = (*ASSET_COLUMNS, *LIABILITY_COLUMNS)
ASSETS = ASSET_COLUMNS
LIABILITIES = LIABILITY_COLUMNS
_EPOCH_MONTH = 1970 * 12


def _fen(x: np.ndarray) -> np.ndarray:
    """CNY floats to integer fen, rounded to whole yuan (the officer writes yuan)."""
    return np.asarray(np.round(x) * 100, dtype=np.int64)


def _month_dates(index: np.ndarray) -> np.ndarray:
    """First day of the absolute month ``index`` (year × 12 + month − 1)."""
    return (
        (np.asarray(index, dtype=np.int64) - _EPOCH_MONTH)
        .astype("datetime64[M]")
        .astype("datetime64[D]")
    )


@dataclass(frozen=True, slots=True)
class _Draws:
    """Per-business random draws, made in a loop over businesses from their own streams."""

    u: np.ndarray  # (n, _U.N) uniforms, stream FINANCIALS
    z: np.ndarray  # (n, _Z.N) normals, stream FINANCIALS
    revolve: np.ndarray  # per debt: revolving balance at the check point / now
    sales_noise: np.ndarray  # (n, months) honest statement noise
    infl_noise: np.ndarray  # (n, months) inflater statement noise
    d: np.ndarray  # (n, _D.N) uniforms, stream FINANCIAL_DECLARED
    eta_z: np.ndarray  # (n,) normal of the reconciliation error
    gm_declared: np.ndarray  # weighted margin of the stated products
    margin_bump: np.ndarray  # points added to the stated margin (inflaters)
    products: pl.DataFrame


class _U:
    """Slots of the per-business uniforms (stream FINANCIALS): one purpose each."""

    PREPAY, PREPAY0, PREPAY1, CASH0, CASH1, OVERSTATE = 0, 1, 2, 3, 4, 5
    VEHICLE, VEHICLE_SHARE, PROPERTY, PROPERTY_SIZE = 6, 7, 8, 9
    RENT_AHEAD, RENT_AHEAD0, RENT_AHEAD1, RENT_DEPOSIT, OTHER_OP, HOME = 10, 11, 12, 13, 14, 15
    PAYABLE_MONTHS, ADVANCE, ADVANCE0, ADVANCE1, OTHER_LIAB0, OTHER_LIAB1 = 16, 17, 18, 19, 20, 21
    REVALUE, REVALUE_RATE, CAPEX, CAPEX_SIZE, DEPR_EQUIPMENT, DEPR_VEHICLES = 22, 23, 24, 25, 26, 27
    INJECTION, WITHDRAWAL, WITHDRAWAL_SIZE = 28, 29, 30
    N = 31


class _Z:
    """Slots of the per-business normals (stream FINANCIALS)."""

    INVENTORY, RECEIVABLES, FIXED, JITTER0, JITTER1, HOME, HOUSEHOLD, INJECTION = range(8)
    N = 8


class _D:
    """Slots of the per-business uniforms of the declarations (stream FINANCIAL_DECLARED)."""

    MARGIN, MARGIN_SIZE, ASSETS, COVER, SLIP = range(5)
    N = 5


def _draw(
    chunk: Chunk,
    ids: np.ndarray,
    industry: np.ndarray,
    gm: np.ndarray,
    inflates: np.ndarray,
    n_months: int,
    debt_counts: np.ndarray,
) -> _Draws:
    n = len(ids)
    u = np.empty((n, _U.N))
    z = np.empty((n, _Z.N))
    revolve: list[np.ndarray] = []
    sales_noise = np.empty((n, n_months))
    infl_noise = np.empty((n, n_months))
    d = np.empty((n, _D.N))
    eta_z = np.empty(n)
    gm_declared = np.empty(n)
    bump = np.zeros(n)
    p_bid: list[np.ndarray] = []
    p_name: list[np.ndarray] = []
    p_buy: list[np.ndarray] = []
    p_sell: list[np.ndarray] = []
    p_share: list[np.ndarray] = []
    for i, bid in enumerate(ids.tolist()):
        rng = chunk.rng(bid, Stream.FINANCIALS)
        u[i] = rng.random(_U.N)
        z[i] = rng.standard_normal(_Z.N)
        revolve.append(rng.uniform(0.6, 1.3, int(debt_counts[i])))

        drng = chunk.rng(bid, Stream.FINANCIAL_DECLARED)
        sales_noise[i] = drng.normal(0.0, 0.012, n_months)
        infl_noise[i] = drng.normal(0.0, 0.04, n_months)
        d[i] = drng.random(_D.N)
        eta_z[i] = drng.standard_normal()
        if inflates[i] and d[i, _D.MARGIN] < MARGIN_INFLATER_SHARE:
            bump[i] = 0.03 + 0.05 * d[i, _D.MARGIN_SIZE]

        prng = chunk.rng(bid, Stream.FINANCIAL_PRODUCTS)
        catalogue = PRODUCTS[str(industry[i])]
        count = int(prng.integers(2, min(5, len(catalogue)) + 1))
        pick = prng.permutation(len(catalogue))[:count]
        share = np.round(prng.dirichlet(np.full(count, 2.0)), 4)
        share[np.argmax(share)] += round(1.0 - float(share.sum()), 4)
        target = min(float(gm[i]) + bump[i], 0.9)
        margin = target + prng.normal(0.0, 0.07, count)
        for _ in range(4):
            margin = np.minimum(np.maximum(margin + target - float(share @ margin), 0.02), 0.95)
        typical = np.array([catalogue[j][1] for j in pick])
        sell = np.maximum(np.round(typical * prng.lognormal(0.0, 0.3, count) * 100), 100)
        buy = np.maximum(np.round(sell * (1.0 - margin)), 1)
        gm_declared[i] = float(share @ (1.0 - buy / sell))
        p_bid.append(np.full(count, bid, dtype=np.int64))
        p_name.append(np.array([catalogue[j][0] for j in pick], dtype=object))
        p_buy.append(buy.astype(np.int64))
        p_sell.append(sell.astype(np.int64))
        p_share.append(share)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.array([], dtype=dtype)

    products = pl.DataFrame(
        {
            "business_id": cat(p_bid, np.int64),
            "product": [str(name) for part in p_name for name in part],
            "purchase_price_fen": cat(p_buy, np.int64),
            "sale_price_fen": cat(p_sell, np.int64),
            "sales_share": cat(p_share, np.float64),
        },
        schema={
            "business_id": pl.Int64,
            "product": pl.Utf8,
            "purchase_price_fen": pl.Int64,
            "sale_price_fen": pl.Int64,
            "sales_share": pl.Float64,
        },
    )
    return _Draws(
        u=u,
        z=z,
        revolve=cat(revolve, np.float64),
        sales_noise=np.clip(sales_noise, -0.03, 0.03),
        infl_noise=np.clip(infl_noise, -0.1, 0.1),
        d=d,
        eta_z=eta_z,
        gm_declared=gm_declared,
        margin_bump=bump,
        products=products,
    )


def _debt_balances(
    debts: pl.DataFrame,
    ids: np.ndarray,
    app_month: np.ndarray,
    cp_date: np.ndarray,
    k: np.ndarray,
    revolve: np.ndarray,
    n_months: int,
) -> dict[str, np.ndarray]:
    """Balances of every debt at the check point and now, and its monthly interest.

    Amortising loans are taken back linearly (balance + principal × months / term, at most the
    principal); revolving lines (循环额度) are drawn near their current balance; a debt opened
    after the check point is not on that sheet. Interest (利息) of history month t is the
    balance then × annual rate / 12, from the month after opening.
    """
    owner = np.searchsorted(ids, debts["business_id"].to_numpy())
    term = debts["term_months"].to_numpy()
    principal = debts["principal_fen"].to_numpy().astype(np.float64)
    balance = debts["balance_fen"].to_numpy()
    rate = debts["annual_rate"].to_numpy()
    opened = debts["opened"].to_numpy().astype("datetime64[D]")
    opened_month = opened.astype("datetime64[M]").astype(np.int64) + _EPOCH_MONTH
    kd = k[owner]
    amortising = term > 0
    back = np.where(
        amortising,
        np.minimum(principal, balance + principal * kd / np.maximum(term, 1)),
        np.minimum(principal, balance * revolve),
    )
    cp_balance = np.where(opened <= cp_date[owner], np.round(back / 100) * 100, 0).astype(np.int64)
    t = np.arange(-n_months, 0)
    month = app_month[owner][:, None] + t[None, :]
    per_month = principal / np.maximum(term, 1)
    bal_t = np.where(
        amortising[:, None],
        np.minimum(principal[:, None], balance[:, None] + per_month[:, None] * (-t)[None, :]),
        balance[:, None].astype(np.float64),
    )
    interest = bal_t / 100.0 * rate[:, None] / 12.0 * (month > opened_month[:, None])
    return {
        "owner": owner,
        "cp_balance": cp_balance,
        "balance": balance,
        "interest": interest,  # CNY, (debts, months)
    }


def _by_owner(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, *values.shape[1:]), dtype=values.dtype)
    np.add.at(out, owner, values)
    return out


def _build(chunk: Chunk) -> dict[str, pl.DataFrame]:
    config = chunk.config
    b = chunk.businesses.sort("business_id").join(
        chunk.truth.select(
            "business_id",
            "gross_margin",
            "inflates_sales",
            "hides_debt",
            "sales_inflation",
            "sales_level",
        ),
        on="business_id",
    )
    ids = b["business_id"].to_numpy()
    n = len(ids)
    industry = b["industry"].to_numpy()
    gm = b["gross_margin"].to_numpy()
    inflates = b["inflates_sales"].to_numpy()
    hides = b["hides_debt"].to_numpy()
    inflation = b["sales_inflation"].to_numpy()
    level = b["sales_level"].to_numpy()
    app = b["application_date"].to_numpy().astype("datetime64[D]")
    app_month = app.astype("datetime64[M]").astype(np.int64) + _EPOCH_MONTH
    inds = {i.code.value: i for i in config.industries}

    def ind(attr: str) -> np.ndarray:
        return np.array([float(getattr(inds[c], attr)) for c in industry])

    inv_m, rec_m, fa_m = (
        ind("inventory_months"),
        ind("receivable_months"),
        ind("fixed_asset_months"),
    )
    b2b = ind("b2b_share")

    hist = chunk.monthly.filter(pl.col("phase") == "history").sort("business_id", "t")
    n_hist = config.months
    n_inc = min(12, n_hist)

    def mat(col: str) -> np.ndarray:
        arr = hist[col].to_numpy().reshape(n, n_hist)
        return np.asarray(arr[:, n_hist - n_inc :], dtype=np.float64)

    sales, purchases = mat("sales"), mat("purchases")
    payroll, rent_cash = mat("payroll"), mat("rent")
    utilities, taxes = mat("utilities"), mat("taxes")
    social, household = mat("social_insurance"), mat("household")

    debts = chunk.debts.sort("business_id", "debt_id")
    counts = _by_owner(
        np.ones(debts.height, dtype=np.int64),
        np.searchsorted(ids, debts["business_id"].to_numpy()),
        n,
    )
    dr = _draw(chunk, ids, industry, gm, inflates, n_inc, counts)
    u, z, dd = dr.u, dr.z, dr.d
    # the check point and the bank deposits on both dates: what the statements show
    shown = statements.deposit_balances(chunk)
    if not np.array_equal(shown["business_id"].to_numpy(), ids):
        raise ValueError("statements and financials disagree on the businesses")
    cp_date = shown["check_point"].to_numpy().astype("datetime64[D]")
    k = app_month - (cp_date.astype("datetime64[M]").astype(np.int64) + _EPOCH_MONTH) - 1
    deposits0 = shown["check_point_fen"].to_numpy()
    deposits1 = shown["application_fen"].to_numpy()
    debt = _debt_balances(debts, ids, app_month, cp_date, k, dr.revolve, n_inc)
    owner = debt["owner"]
    declared = debts["declared"].to_numpy()
    interest_all = _by_owner(debt["interest"], owner, n)
    interest_decl = _by_owner(debt["interest"] * declared[:, None], owner, n)

    col = np.arange(n_inc)[None, :]
    in_period = col >= (n_inc - k)[:, None]

    # --- P&L: true, honest (clean) and declared, monthly, in fen ---
    rent = np.repeat(rent_cash.mean(axis=1, keepdims=True), n_inc, axis=1)
    rent_f, wages_f = _fen(rent), _fen(payroll)
    util_f, tax_f, hh_f = _fen(utilities), _fen(taxes), _fen(household)
    fixed_costs = rent_f + wages_f + util_f + tax_f
    true_sales_f = _fen(sales)
    true_disp = (
        true_sales_f
        - _fen(sales * (1 - gm[:, None]))
        - fixed_costs
        - _fen(social + interest_all)
        - hh_f
    )
    gm_clean = dr.gm_declared - dr.margin_bump
    clean_sales_f = _fen(sales * (1 + dr.sales_noise))
    clean_disp = (
        clean_sales_f
        - _fen(clean_sales_f / 100 * (1 - gm_clean[:, None]))
        - fixed_costs
        - _fen(social + interest_all)
        - hh_f
    )
    decl_sales_f = np.where(
        inflates[:, None], _fen(sales * inflation[:, None] * (1 + dr.infl_noise)), clean_sales_f
    )
    cogs_f = _fen(decl_sales_f / 100 * (1 - dr.gm_declared[:, None]))
    gross_f = decl_sales_f - cogs_f
    other_f = _fen(social + interest_decl)
    net_f = gross_f - fixed_costs - other_f
    disp_f = net_f - hh_f

    p_true = (true_disp * in_period).sum(axis=1)
    p_clean = (clean_disp * in_period).sum(axis=1)
    p_decl = (disp_f * in_period).sum(axis=1)

    # --- asset structure at the check point (0) and now (1) ---
    first = n_inc - k
    rows = np.arange(n)
    window = np.minimum(first[:, None] + np.arange(3)[None, :], n_inc - 1)
    s0 = sales[rows[:, None], window].mean(axis=1)
    q0 = purchases[rows[:, None], window].mean(axis=1)
    s1 = sales[:, -3:].mean(axis=1)
    q1 = purchases[:, -3:].mean(axis=1)
    rent_month = rent[:, 0]
    wage_bill = payroll.mean(axis=1)
    f_inv = np.exp(0.3 * z[:, _Z.INVENTORY])
    f_rec = np.exp(0.3 * z[:, _Z.RECEIVABLES])
    f_fa = np.exp(0.4 * z[:, _Z.FIXED])
    jitter0, jitter1 = np.exp(0.1 * z[:, _Z.JITTER0]), np.exp(0.1 * z[:, _Z.JITTER1])
    inventory0 = _fen(inv_m * q0 * f_inv * jitter0)
    inventory1 = _fen(inv_m * q1 * f_inv * jitter1)
    receivables0 = _fen(rec_m * s0 * f_rec * jitter1)
    receivables1 = _fen(rec_m * s1 * f_rec * jitter0)
    prepay = u[:, _U.PREPAY] < 0.4
    prepayments0 = _fen(prepay * q0 * 0.3 * u[:, _U.PREPAY0])
    prepayments1 = _fen(prepay * q1 * 0.3 * u[:, _U.PREPAY1])
    cash0 = _fen(s0 * (0.02 + 0.1 * u[:, _U.CASH0]))
    cash1 = _fen(s1 * (0.02 + 0.1 * u[:, _U.CASH1]))
    fixed0 = fa_m * level * f_fa
    has_vehicle = u[:, _U.VEHICLE] < 0.7
    veh_share = has_vehicle * (0.1 + 0.4 * u[:, _U.VEHICLE_SHARE])
    vehicles0 = _fen(fixed0 * veh_share)
    equipment0 = _fen(fixed0 * (1 - veh_share))
    own_p = np.where(np.isin(industry, ["manufacturing", "agriculture"]), 0.3, 0.12)
    property0 = _fen((u[:, _U.PROPERTY] < own_p) * level * (8 + 22 * u[:, _U.PROPERTY_SIZE]))
    ahead = u[:, _U.RENT_AHEAD] < 0.4
    prepaid_rent0 = _fen(rent_month * ahead * np.floor(u[:, _U.RENT_AHEAD0] * 7))
    prepaid_rent1 = _fen(rent_month * ahead * np.floor(u[:, _U.RENT_AHEAD1] * 7))
    other_op = _fen(
        rent_month * np.floor(u[:, _U.RENT_DEPOSIT] * 4) + s1 * 0.02 * u[:, _U.OTHER_OP]
    )
    annual_household = household.mean(axis=1) * 12
    home = _fen((u[:, _U.HOME] < 0.65) * annual_household * 10.0 * np.exp(0.5 * z[:, _Z.HOME]))
    other_household = _fen(annual_household * 0.5 * np.exp(0.8 * z[:, _Z.HOUSEHOLD]))
    payable_months = 0.1 + 0.8 * u[:, _U.PAYABLE_MONTHS]
    payables0 = _fen(q0 * payable_months * jitter1)
    payables1 = _fen(q1 * payable_months * jitter0)
    advance = (u[:, _U.ADVANCE] < 0.3) * b2b * 0.4
    advance0 = _fen(advance * s0 * u[:, _U.ADVANCE0])
    advance1 = _fen(advance * s1 * u[:, _U.ADVANCE1])
    other_liab0 = _fen(wage_bill * u[:, _U.OTHER_LIAB0])
    other_liab1 = _fen(wage_bill * u[:, _U.OTHER_LIAB1])

    # --- period items: depreciation, appreciation, capex, injections, withdrawals ---
    years = k / 12.0
    depr_e = _fen(equipment0 / 100 * (0.08 + 0.12 * u[:, _U.DEPR_EQUIPMENT]) * years)
    depr_v = _fen(vehicles0 / 100 * (0.12 + 0.13 * u[:, _U.DEPR_VEHICLES]) * years)
    depreciation = depr_e + depr_v
    revalue = (u[:, _U.REVALUE] < REVALUATION_SHARE) * (0.01 + 0.05 * u[:, _U.REVALUE_RATE])
    appr_property = _fen(property0 / 100 * revalue)
    appr_home = _fen(home / 100 * revalue)
    appreciation = appr_property + appr_home
    capex = _fen((u[:, _U.CAPEX] < CAPEX_SHARE) * s1 * (0.2 + 1.3 * u[:, _U.CAPEX_SIZE]))
    capex_v = np.where(has_vehicle, capex // 300 * 100, 0)
    capex_e = capex - capex_v
    injections = _fen(
        (u[:, _U.INJECTION] < INJECTION_SHARE)
        * np.round(s1 * 0.6 * np.exp(0.6 * z[:, _Z.INJECTION]), -3)
    )
    withdrawals = _fen(
        (u[:, _U.WITHDRAWAL] < WITHDRAWAL_SHARE)
        * np.round(np.maximum(p_true / 100, s1 * 0.3) * (0.1 + 0.4 * u[:, _U.WITHDRAWAL_SIZE]), -3)
    )
    equipment1 = equipment0 - depr_e + capex_e
    vehicles1 = vehicles0 - depr_v + capex_v
    property1 = property0 + appr_property
    household0 = home + other_household
    household1 = household0 + appr_home

    # loans by line and date: all (truth) and declared
    kind = debts["lender_kind"].to_numpy()
    term = debts["term_months"].to_numpy()
    line = np.where(kind == "private", 2, np.where(term > 12, 1, 0))

    def loans(bal: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        return [_by_owner(bal * (mask & (line == j)), owner, n) for j in range(3)]

    everyone = np.ones(debts.height, dtype=bool)
    loans0_all = loans(debt["cp_balance"], everyone)
    loans1_all = loans(debt["balance"], everyone)
    loans0_decl = loans(debt["cp_balance"], declared)
    loans1_decl = loans(debt["balance"], declared)

    true0: dict[str, np.ndarray] = {
        "cash_fen": cash0,
        "bank_deposits_fen": deposits0,
        "receivables_fen": receivables0,
        "prepayments_fen": prepayments0,
        "inventory_fen": inventory0,
        "equipment_fen": equipment0,
        "vehicles_fen": vehicles0,
        "property_fen": property0,
        "prepaid_rent_fen": prepaid_rent0,
        "other_operating_assets_fen": other_op,
        "household_assets_fen": household0,
        "payables_fen": payables0,
        "advance_receipts_fen": advance0,
        "short_term_loans_fen": loans0_all[0],
        "long_term_loans_fen": loans0_all[1],
        "private_loans_fen": loans0_all[2],
        "other_liabilities_fen": other_liab0,
    }
    e0_true = _equity(true0)
    e1_true = e0_true + p_true + injections + appreciation - withdrawals - depreciation
    true1: dict[str, np.ndarray] = {
        "cash_fen": cash1,
        "bank_deposits_fen": deposits1,
        "receivables_fen": receivables1,
        "prepayments_fen": prepayments1,
        "inventory_fen": inventory1,
        "equipment_fen": equipment1,
        "vehicles_fen": vehicles1,
        "property_fen": property1,
        "prepaid_rent_fen": prepaid_rent1,
        "other_operating_assets_fen": other_op,
        "household_assets_fen": household1,
        "payables_fen": payables1,
        "advance_receipts_fen": advance1,
        "short_term_loans_fen": loans1_all[0],
        "long_term_loans_fen": loans1_all[1],
        "private_loans_fen": loans1_all[2],
        "other_liabilities_fen": other_liab1,
    }
    # the plug of the true identity: other operating assets (money lent out) if positive,
    # other liabilities (money owed to relatives, wages and taxes payable) if negative
    plug = e1_true - _equity(true1)
    true1["other_operating_assets_fen"] = other_op + np.maximum(plug, 0)
    true1["other_liabilities_fen"] = other_liab1 + np.maximum(-plug, 0)
    assert np.array_equal(_equity(true1), e1_true)

    # --- declared sheets ---
    eta = dr.eta_z * np.where(dd[:, _D.SLIP] < SLIP_SHARE, SLIP_SD, ETA_SD)
    recon = (p_true - p_clean) + _fen(eta * np.abs(p_clean) / 100)
    decl0 = dict(true0)
    decl0["short_term_loans_fen"], decl0["long_term_loans_fen"], decl0["private_loans_fen"] = (
        loans0_decl
    )
    cash_decl0 = cash0 + recon
    decl0["cash_fen"] = np.maximum(cash_decl0, 0)
    decl0["other_liabilities_fen"] = other_liab0 + np.maximum(-cash_decl0, 0)

    decl1 = dict(true1)
    decl1["short_term_loans_fen"], decl1["long_term_loans_fen"], decl1["private_loans_fen"] = (
        loans1_decl
    )
    inflate_assets = inflates & (dd[:, _D.ASSETS] < ASSET_INFLATER_SHARE)
    gap = np.maximum(p_decl - p_clean, 0)
    cover = _fen(inflate_assets * gap / 100 * (0.2 + 0.6 * dd[:, _D.COVER]))
    # half of them put the cover in the current deposits instead, above what the statements
    # show (a balance shown before a large payment, a relative's deposit counted as theirs)
    overstate = inflate_assets & (u[:, _U.OVERSTATE] < DEPOSIT_OVERSTATER_SHARE)
    cover_dep = np.where(overstate, cover, 0)
    cover_inv = (cover - cover_dep) // 1000 * 700
    decl1["bank_deposits_fen"] = deposits1 + cover_dep
    decl1["inventory_fen"] = inventory1 + cover_inv
    decl1["receivables_fen"] = receivables1 + (cover - cover_dep - cover_inv)

    hidden1 = (loans1_all[0] + loans1_all[1] + loans1_all[2]) - (
        loans1_decl[0] + loans1_decl[1] + loans1_decl[2]
    )
    e1_decl = _equity(decl1)

    sheets = pl.concat(
        [_sheet_frame(ids, cp_date, "check_point", decl0), _sheet_frame(ids, app, "current", decl1)]
    ).sort("business_id", "as_of")

    months = _month_dates(app_month[:, None] + np.arange(-n_inc, 0)[None, :])
    income = pl.DataFrame(
        {
            "business_id": np.repeat(ids, n_inc),
            "month": months.ravel(),
            "sales_declared_fen": decl_sales_f.ravel(),
            "cost_of_goods_fen": cogs_f.ravel(),
            "gross_profit_fen": gross_f.ravel(),
            "rent_fen": rent_f.ravel(),
            "wages_fen": wages_f.ravel(),
            "utilities_fen": util_f.ravel(),
            "taxes_fen": tax_f.ravel(),
            "other_costs_fen": other_f.ravel(),
            "net_profit_fen": net_f.ravel(),
            "household_expenses_fen": hh_f.ravel(),
            "disposable_income_fen": disp_f.ravel(),
        }
    ).with_columns(
        pl.col("month").cast(pl.Date), *(pl.col(c).cast(pl.Int64) for c in INCOME_COLUMNS)
    )

    recon_inputs = pl.DataFrame(
        {
            "business_id": ids,
            "period_start": cp_date,
            "period_end": app,
            "months": k,
            "period_profit_fen": p_decl,
            "injections_fen": injections,
            "withdrawals_fen": withdrawals,
            "appreciation_fen": appreciation,
            "depreciation_fen": depreciation,
        }
    ).with_columns(
        pl.col("period_start").cast(pl.Date),
        pl.col("period_end").cast(pl.Date),
        *(
            pl.col(c).cast(pl.Int64)
            for c in (
                "months",
                "period_profit_fen",
                "injections_fen",
                "withdrawals_fen",
                "appreciation_fen",
                "depreciation_fen",
            )
        ),
    )

    hidden0 = (loans0_all[0] + loans0_all[1] + loans0_all[2]) - (
        loans0_decl[0] + loans0_decl[1] + loans0_decl[2]
    )
    hidden = hidden1 > 0  # any debt left off the file, hidden on purpose or forgotten
    kind_out = np.where(
        inflate_assets,
        "inflated_assets",
        np.where(inflates, "inflated_sales", np.where(hidden, "hidden_debt", "none")),
    )
    manipulation = pl.DataFrame(
        {
            "business_id": ids,
            "kind": kind_out,
            "inflated_sales": inflates,
            "inflated_margin": dr.margin_bump > 0,
            "inflated_assets": inflate_assets,
            "hidden_debt": hidden,
            "hides_on_purpose": hidden & hides,
            "true_equity_check_point_fen": e0_true,
            "true_equity_current_fen": e1_true,
            "declared_equity_current_fen": e1_decl,
            "equity_gap_fen": e1_decl - e1_true,
            "undeclared_debt_check_point_fen": hidden0,
            "undeclared_debt_current_fen": hidden1,
            "asset_inflation_fen": cover,
            "overstated_deposits_fen": cover_dep,
            "true_period_profit_fen": p_true,
            "honest_period_profit_fen": p_clean,
            "true_sales_12m_fen": true_sales_f.sum(axis=1),
            "declared_sales_12m_fen": decl_sales_f.sum(axis=1),
            "true_gross_margin": gm,
            "declared_gross_margin": np.round(dr.gm_declared, 6),
        }
    )
    # the applicant's own list of debts (负债清单) on the application form: the declared ones,
    # as the balance sheet counts them (its loan lines sum these balances)
    declared_debts = (
        debts.filter(pl.col("declared"))
        .select(
            "business_id",
            "lender",
            "lender_kind",
            pl.col("account_type"),
            pl.col("opened"),
            pl.col("balance_fen"),
            pl.col("monthly_payment_fen"),
        )
        .sort("business_id", "opened", "lender")
    )
    return {
        "balance_sheets": sheets,
        "income_monthly": income,
        "products": dr.products,
        "equity_reconciliation_inputs": recon_inputs,
        "declared_debts": declared_debts,
        "financial_manipulation": manipulation,
    }


def _equity(sheet: dict[str, np.ndarray]) -> np.ndarray:
    assets = sum((sheet[c] for c in ASSETS), np.zeros_like(sheet["cash_fen"]))
    liabilities = sum((sheet[c] for c in LIABILITIES), np.zeros_like(sheet["cash_fen"]))
    return np.asarray(assets - liabilities, dtype=np.int64)


def _sheet_frame(
    ids: np.ndarray, as_of: np.ndarray, kind: str, sheet: dict[str, np.ndarray]
) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"business_id": ids, "as_of": as_of, **{c: sheet[c] for c in BALANCE_COLUMNS}}
    ).with_columns(
        pl.col("as_of").cast(pl.Date),
        pl.lit(kind).alias("kind"),
        *(pl.col(c).cast(pl.Int64) for c in BALANCE_COLUMNS),
    )
    return (
        frame.with_columns(
            pl.sum_horizontal(*ASSETS).alias("total_assets_fen"),
            pl.sum_horizontal(*LIABILITIES).alias("total_liabilities_fen"),
        )
        .with_columns(
            (pl.col("total_assets_fen") - pl.col("total_liabilities_fen")).alias("equity_fen")
        )
        .select(
            "business_id",
            "as_of",
            "kind",
            *BALANCE_COLUMNS,
            "total_assets_fen",
            "total_liabilities_fen",
            "equity_fen",
        )
    )


def render(chunk: Chunk) -> Rendered:
    """Render the IPC file of every business of the chunk (observable tables and truth)."""
    built = _build(chunk)
    return Rendered(
        tables={
            f"financials/{name}": built[name]
            for name in (
                "balance_sheets",
                "income_monthly",
                "products",
                "equity_reconciliation_inputs",
                "declared_debts",
            )
        },
        truth={"financial_manipulation": built["financial_manipulation"]},
    )
