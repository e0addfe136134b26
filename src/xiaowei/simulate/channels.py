"""Alternative data channels (替代数据): POS acquiring, e-commerce stores, web traffic, workplace.

Four renderings of the same latent business, all drawn from the chunk's monthly flows
(:mod:`xiaowei.simulate.flows`, both the ``history`` and the ``follow`` phase), so that what
a model reads here agrees with the bank statements, the IPC file and the repayment behaviour:

``pos/settlements`` — POS acquiring settlements (POS收单结算), for businesses with ``has_pos``.
    One row per trading day. The month's card sales ``sales_pos`` (integer fen) are split over
    the month's trading days with day-of-week weights of the industry (restaurants busier at
    the weekend, factories on weekdays) and gamma noise; the split is by cumulative rounding,
    so the month's ``gross_fen`` equals ``round(100 · sales_pos)`` to the fen. Trading days
    thin out as ``activity`` falls (the warning months before a default, 停业 after it).
    ``settle_date`` is the trade date plus one calendar day (T+1, 次日结算). The merchant
    discount rate (MDR, 商户手续费率) is 0.38 % for the reduced-rate categories (grocery,
    food, farm supplies) and 0.55–0.60 % otherwise; ``fee_fen = round((gross − refund) · MDR)``
    (the acquirer returns the fee of refunded sales), ``net_fen = gross − refund − fee``.
    The merchant category code (MCC, 商户类别码) follows the industry and the business name
    (5411 grocery, 5812 restaurants, 7230 barbers and beauty, 7538 car repair, …). A share of
    the dishonest applicants (those who inflate sales, hide debts or round-trip money) are
    registered under an MCC that does not fit their trade (5411, 8062 hospital, 7011 hotel,
    5094 jewellery, 5933 pawn shop: low-fee or cash-out-prone codes, the 套码/跳码 pattern);
    the true expected MCC and the mismatch flag go to ``truth/channels/pos_merchants``. The
    15-digit ``merchant_id`` (商户编号) is laid out as UnionPay's: acquirer (3) + area (4, the
    region's code) + MCC (4) + sequence (4).

    The bank credits of these settlements are rendered by :mod:`xiaowei.simulate.statements`
    from the same monthly ``sales_pos`` flow, so POS and statements agree by construction at
    the month level; day by day they need not. A merchant whose customers happen to pay only
    by transfer has a POS account (in the truth table) but no settlement rows: dormant.

``ecommerce/store_monthly`` — online stores (网店经营数据), for businesses with
    ``has_ecommerce``: one or two stores (淘宝/天猫/京东/拼多多/抖音), one row per store and
    month with sales. The month's ``sales_platform`` is what the platforms pay out (平台结算,
    credited to the bank), split between the stores; each store's ``payout_fen`` is its share
    and, exactly, ``gmv_fen = payout_fen + refund_fen + commission_fen``: GMV (成交额) less
    refunds (退款) less the platform's commission and technical-service fees (佣金/技术服务费).
    Refund rates, rating (DSR 店铺评分, 4.5–4.9) and the negative-review rate (差评率) depend on
    the true PD and worsen as ``activity`` falls. Orders follow the store's average order
    value (客单价, AOV). The stores' platforms and payout shares come from
    :func:`store_plan`, which :mod:`xiaowei.simulate.statements` calls too: each store's
    monthly payouts are credited to the bank under its own platform's memo and payer
    (抖音结算 from 抖音支付科技有限公司, 淘宝提现 from 支付宝…), to the fen.

``web/traffic`` — daily web/store traffic (流量), for businesses with ``has_web``: PV (浏览量),
    UV (访客数), orders and conversion = orders / UV (1–4 %). The day's orders are the month's
    orders of the business's stores split over the days (the month sums agree with
    ``ecommerce/store_monthly``), with peaks at 618 and 双十一.

``workplace/attendance`` — DingTalk-like daily attendance and approvals (钉钉考勤与审批), for
    businesses with ``has_workplace``: one row per working day of the business's schedule
    while it operates. ``staff`` is the month's ``headcount``; ``present`` falls with
    ``activity``, so attendance drops in the precursor months before a default (预警信号) while
    it stays flat for healthy businesses; lateness (迟到) rises for the undisciplined and in
    distress; approvals (审批) count leave requests (请假), expense claims (报销) and purchase
    requests (采购), fewer when business slows.

Rows cover the whole window of the flows: the ``months`` before the application month and the
``follow_months`` from it on. What an officer sees at application is the part dated before
``application_date``; the rest is monitoring data (贷后监测), where the precursors of default
show. Public holidays (法定节假日) are not modelled; the working week is the industry's.

Every business draws from its own streams (``Stream.CHANNELS`` for POS, ``ECOMMERCE``,
``WEB_TRAFFIC``, ``WORKPLACE``), so a business renders the same rows whatever its chunk.
Observable tables carry no latent variable; money is integer fen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from xiaowei.simulate.latent import month_start
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.random import Stream
from xiaowei.simulate.world import Chunk

# --- POS acquiring (POS收单) ------------------------------------------------------------------

# Merchant category codes (MCC, ISO 18245) by the trade word of the business name.
MCC_BY_WORD: dict[str, dict[str, str]] = {
    "trade": {
        "百货": "5311",  # department stores
        "建材": "5211",  # lumber and building materials
        "五金": "5251",  # hardware stores
        "粮油": "5411",  # grocery stores, supermarkets
        "副食品": "5499",  # miscellaneous food stores
        "日用品": "5399",  # miscellaneous general merchandise
        "商贸": "5999",  # miscellaneous retail
    },
    "manufacturing": {
        "机械": "5085",  # industrial supplies
        "塑料制品": "5099",  # durable goods, not elsewhere classified
        "服装加工": "5137",  # uniforms and clothing
        "五金制品": "5072",  # hardware equipment and supplies
        "包装": "5099",
        "模具": "5085",
    },
    "service": {
        "美容美发": "7230",  # barber and beauty shops
        "汽车维修": "7538",  # automotive service shops
        "家政服务": "7349",  # cleaning and maintenance
        "洗衣": "7210",  # laundry services
        "摄影": "7221",  # photographic studios
        "健身": "7997",  # clubs, fitness
    },
    "catering": {
        "火锅店": "5812",  # eating places, restaurants
        "烧烤": "5812",
        "面馆": "5814",  # fast food restaurants
        "小吃": "5814",
        "快餐": "5814",
        "餐饮": "5812",
    },
    "agriculture": {
        "养殖": "0763",  # agricultural cooperatives
        "种植": "0763",
        "农业": "0763",
        "果蔬": "5499",
        "茶业": "5499",
        "水产": "5422",  # freezer and locker meat provisioners
    },
}
MCC_DEFAULT: dict[str, str] = {
    "trade": "5999",
    "manufacturing": "5099",
    "service": "7299",
    "catering": "5812",
    "agriculture": "0763",
    "ecommerce": "5964",
}
# Reduced merchant discount rate (民生类/优惠类 categories).
LOW_RATE_MCCS = frozenset({"5411", "5499", "5422", "0763"})
# Codes a dishonest merchant may be registered under (套码): low-fee or cash-out-prone.
MISMATCH_MCCS = ("5411", "8062", "7011", "5094", "5933")
MCC_MISMATCH_SHARE = 0.35  # of the dishonest POS merchants
ACQUIRER_CODES = ("102", "301", "486", "822", "913")  # invented 3-digit acquirer prefixes
# Average card ticket by industry, CNY.
TICKET_CNY: dict[str, float] = {
    "trade": 160.0,
    "manufacturing": 1800.0,
    "service": 130.0,
    "catering": 85.0,
    "agriculture": 350.0,
    "ecommerce": 150.0,
}
# Day-of-week sales weights, Monday first.
WEEKDAY_SALES: dict[str, tuple[float, ...]] = {
    "trade": (0.95, 0.95, 0.95, 1.0, 1.05, 1.15, 1.1),
    "manufacturing": (1.1, 1.1, 1.1, 1.1, 1.1, 0.6, 0.4),
    "service": (0.9, 0.9, 0.9, 0.95, 1.05, 1.3, 1.25),
    "catering": (0.85, 0.9, 0.9, 0.95, 1.15, 1.35, 1.3),
    "agriculture": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9),
    "ecommerce": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
FLAT_WEEK = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)

# --- e-commerce (电商) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Platform:
    code: str
    name_zh: str
    weight: float  # share of stores
    commission: tuple[float, float]  # commission + technical-service fee, share of net sales
    refund: tuple[float, float]  # refund rate range (退款率) of a low-risk store
    aov_cny: float  # typical average order value (客单价)


PLATFORMS: tuple[Platform, ...] = (
    Platform("TB", "淘宝", 0.30, (0.006, 0.02), (0.06, 0.12), 120.0),
    Platform("TM", "天猫", 0.15, (0.03, 0.05), (0.05, 0.10), 180.0),
    Platform("JD", "京东", 0.12, (0.05, 0.08), (0.03, 0.08), 220.0),
    Platform("PDD", "拼多多", 0.23, (0.006, 0.015), (0.08, 0.15), 45.0),
    Platform("DY", "抖音", 0.20, (0.05, 0.10), (0.15, 0.30), 90.0),
)
_PLATFORM_WEIGHTS = np.array([pl_.weight for pl_ in PLATFORMS])
_PLATFORM_WEIGHTS = _PLATFORM_WEIGHTS / _PLATFORM_WEIGHTS.sum()


@dataclass(frozen=True, slots=True)
class StorePlan:
    """A business's online stores (网店): their platforms and how the payouts split.

    ``rng`` is the business's ``Stream.ECOMMERCE`` stream after the plan's draws: the store
    renderer goes on drawing from it, other renderers (the bank statements) ignore it.
    """

    platforms: tuple[Platform, ...]  # one or two distinct platforms, the larger store first
    share: float  # the first store's share of each month's payouts (1.0 with one store)
    rng: np.random.Generator


def store_plan(chunk: Chunk, business_id: int, industry: str) -> StorePlan:
    """The stores of a business with ``has_ecommerce``: one or two platforms (an online
    seller more often has two) drawn by the platforms' weights, and the first store's share
    of the payouts (55–85 %). The e-commerce table and the bank statements both call this,
    so a store's platform and the payer of its payouts (平台结算) agree by construction."""
    rng = chunk.rng(business_id, Stream.ECOMMERCE)
    online_seller = industry == "ecommerce"
    two = rng.random() < (0.35 if online_seller else 0.10)
    chosen = rng.choice(len(PLATFORMS), size=2 if two else 1, replace=False, p=_PLATFORM_WEIGHTS)
    share_roll = float(rng.uniform(0.55, 0.85))
    return StorePlan(
        platforms=tuple(PLATFORMS[int(x)] for x in chosen),
        share=share_roll if two else 1.0,
        rng=rng,
    )


def store_payouts(plan: StorePlan, total_fen: np.ndarray) -> list[np.ndarray]:
    """Each store's monthly payouts (fen): the month's platform sales ``total_fen`` split by
    the plan's share (the first store's rounded half up, the second's the rest), so the
    stores' payouts sum to the month's total exactly."""
    total = np.asarray(total_fen, dtype=np.int64)
    if len(plan.platforms) == 1:
        return [total]
    first = _round_half_up(total * plan.share)
    return [first, total - first]


# --- workplace (钉钉考勤) ----------------------------------------------------------------------

# Working days by industry, Monday first: shops and factories work six days, restaurants rest
# on Monday, online sellers keep office hours.
SCHEDULES: dict[str, tuple[bool, ...]] = {
    "trade": (True, True, True, True, True, True, False),
    "manufacturing": (True, True, True, True, True, True, False),
    "service": (True, True, True, True, True, True, False),
    "catering": (False, True, True, True, True, True, True),
    "agriculture": (True, True, True, True, True, True, False),
    "ecommerce": (True, True, True, True, True, False, False),
}
FIVE_DAYS = (True, True, True, True, True, False, False)


@dataclass(frozen=True, slots=True)
class _Calendar:
    """Every day of a business's window: ``month_pos`` is the month's position (0 = first)."""

    days: np.ndarray  # datetime64[D]
    month_pos: np.ndarray
    starts: np.ndarray  # first day of each month, then the number of days
    weekday: np.ndarray  # 0 = Monday
    month_of_year: np.ndarray  # 1–12
    day_of_month: np.ndarray  # 1–31


def _calendar(first_month: int, span: int) -> _Calendar:
    start = np.datetime64(month_start(first_month), "D")
    end = np.datetime64(month_start(first_month + span), "D")
    days = np.arange(start, end, dtype="datetime64[D]")
    months = days.astype("datetime64[M]")
    absolute = months.astype(np.int64) + 1970 * 12
    month_pos = absolute - first_month
    starts = np.searchsorted(month_pos, np.arange(span + 1)).astype(np.int64)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return _Calendar(days, month_pos, starts, weekday, absolute % 12 + 1, day_of_month)


def _split(total: np.ndarray, weights: np.ndarray, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Split each month's integer ``total`` over its days in proportion to ``weights``.

    Cumulative rounding: the day amounts are non-negative integers summing exactly to the
    month's total. A month with a positive total and no positive weight gets it all on its
    first day. Returns the day amounts and each day's share of its month.
    """
    w = np.asarray(weights, dtype=np.float64)
    ends = cal.starts[1:] - 1
    sums = np.add.reduceat(w, cal.starts[:-1])
    empty = (sums <= 0) & (total > 0)
    if empty.any():
        w = w.copy()
        w[cal.starts[:-1][empty]] = 1.0
    cs = np.cumsum(w)
    base = np.concatenate(([0.0], cs[ends[:-1]]))
    sums = cs[ends] - base
    within = cs - base[cal.month_pos]
    denom = sums[cal.month_pos]
    positive = denom > 0
    safe = np.where(positive, denom, 1.0)
    cum_share = np.where(positive, np.clip(within / safe, 0.0, 1.0), 0.0)
    cum_share[ends] = np.where(sums > 0, 1.0, 0.0)
    cum = np.floor(cum_share * total[cal.month_pos] + 0.5).astype(np.int64)
    prev = np.empty_like(cum)
    prev[1:] = cum[:-1]
    prev[cal.starts[:-1]] = 0
    share = np.where(positive, w / safe, 0.0)
    return cum - prev, share


@dataclass(frozen=True, slots=True)
class _Panel:
    """The chunk's businesses, sorted by id, with their monthly flows as (business × month)."""

    ids: np.ndarray
    industry: list[str]
    name: list[str]
    area: list[str]
    years: np.ndarray
    pd: np.ndarray
    discipline: np.ndarray
    dishonest: np.ndarray
    has_pos: np.ndarray
    has_ecommerce: np.ndarray
    has_web: np.ndarray
    has_workplace: np.ndarray
    first_month: np.ndarray
    pos_fen: np.ndarray
    platform_fen: np.ndarray
    activity: np.ndarray
    headcount: np.ndarray


def _panel(chunk: Chunk) -> _Panel:
    span = chunk.config.months + chunk.config.follow_months
    b = chunk.businesses.sort("business_id").join(
        chunk.truth.select(
            "business_id",
            "pd_12m",
            "credit_discipline",
            (pl.col("inflates_sales") | pl.col("hides_debt") | pl.col("round_trips")).alias(
                "dishonest"
            ),
        ),
        on="business_id",
        how="left",
    )
    m = chunk.monthly.sort("business_id", "month_index")
    n = b.height
    if m.height != n * span:
        raise ValueError(f"monthly flows have {m.height} rows, expected {n} × {span}")
    if n and not np.array_equal(m["business_id"].to_numpy()[::span], b["business_id"].to_numpy()):
        raise ValueError("monthly flows and businesses disagree on the chunk's ids")
    areas = {r.code: r.bank_code for r in chunk.config.regions}

    def grid(column: str) -> np.ndarray:
        return m[column].to_numpy().reshape(n, span)

    def fen(column: str) -> np.ndarray:
        return np.rint(grid(column) * 100.0).astype(np.int64)

    return _Panel(
        ids=b["business_id"].to_numpy(),
        industry=[str(x) for x in b["industry"].to_list()],
        name=[str(x) for x in b["business_name"].to_list()],
        area=[areas.get(str(r), "0000") for r in b["region"].to_list()],
        years=b["years_in_business"].to_numpy().astype(np.float64),
        pd=b["pd_12m"].to_numpy().astype(np.float64),
        discipline=b["credit_discipline"].to_numpy().astype(np.float64),
        dishonest=b["dishonest"].to_numpy().astype(bool),
        has_pos=b["has_pos"].to_numpy().astype(bool),
        has_ecommerce=b["has_ecommerce"].to_numpy().astype(bool),
        has_web=b["has_web"].to_numpy().astype(bool),
        has_workplace=b["has_workplace"].to_numpy().astype(bool),
        first_month=grid("month_index")[:, 0] if n else np.zeros(0, dtype=np.int64),
        pos_fen=fen("sales_pos"),
        platform_fen=fen("sales_platform"),
        activity=grid("activity").astype(np.float64),
        headcount=grid("headcount").astype(np.int64),
    )


class _Calendars:
    """Calendars by first month (a chunk has at most a dozen distinct ones)."""

    def __init__(self, span: int) -> None:
        self.span = span
        self._cache: dict[int, _Calendar] = {}

    def __call__(self, first_month: int) -> _Calendar:
        cal = self._cache.get(first_month)
        if cal is None:
            cal = _calendar(first_month, self.span)
            self._cache[first_month] = cal
        return cal


def _cat(parts: list[np.ndarray], dtype: type | str) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


def expected_mcc(industry: str, business_name: str) -> str:
    """The merchant category code that fits the industry and the trade word of the name."""
    for word, code in MCC_BY_WORD.get(industry, {}).items():
        if word in business_name:
            return code
    return MCC_DEFAULT.get(industry, "5999")


# --- POS --------------------------------------------------------------------------------------


def _pos(chunk: Chunk, p: _Panel, cals: _Calendars) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids: list[np.ndarray] = []
    days: list[np.ndarray] = []
    gross: list[np.ndarray] = []
    ticket: list[np.ndarray] = []
    refund_rate: list[np.ndarray] = []
    refund_u: list[np.ndarray] = []
    refund_size: list[np.ndarray] = []
    mdr: list[np.ndarray] = []
    merchant_of_row: list[np.ndarray] = []
    merchants: list[tuple[int, str, str, str, bool]] = []
    for i in np.flatnonzero(p.has_pos):
        bid = int(p.ids[i])
        industry = p.industry[i]
        rng = chunk.rng(bid, Stream.CHANNELS)
        expected = expected_mcc(industry, p.name[i])
        mismatch_roll = rng.random()
        alternative = MISMATCH_MCCS[int(rng.integers(len(MISMATCH_MCCS)))]
        mismatch = bool(
            p.dishonest[i] and mismatch_roll < MCC_MISMATCH_SHARE and alternative != expected
        )
        mcc = alternative if mismatch else expected
        sequence = int(rng.integers(1, 10_000))
        acquirer = ACQUIRER_CODES[int(rng.integers(len(ACQUIRER_CODES)))]
        standard_rate = rng.uniform(0.0055, 0.0060)
        rate = 0.0038 if mcc in LOW_RATE_MCCS else standard_rate
        avg_ticket = TICKET_CNY.get(industry, 150.0) * 100.0 * rng.lognormal(0.0, 0.35)
        rr = min(0.05, (0.002 + 0.04 * p.pd[i]) * rng.lognormal(0.0, 0.5))
        open_p = rng.uniform(0.88, 0.99)
        cal = cals(int(p.first_month[i]))
        nd = len(cal.days)
        act = p.activity[i][cal.month_pos]
        is_open = rng.random(nd) < open_p * (0.4 + 0.6 * act)
        profile = np.asarray(WEEKDAY_SALES.get(industry, FLAT_WEEK))
        w = profile[cal.weekday] * rng.gamma(4.0, 0.25, nd) * is_open
        amounts, _ = _split(p.pos_fen[i], w, cal)
        ids.append(np.full(nd, bid, dtype=np.int64))
        days.append(cal.days)
        gross.append(amounts)
        ticket.append(avg_ticket * rng.lognormal(0.0, 0.15, nd))
        refund_rate.append(np.full(nd, rr))
        refund_u.append(rng.random(nd))
        refund_size.append(rng.lognormal(0.0, 0.6, nd))
        mdr.append(np.full(nd, rate))
        merchant_of_row.append(np.full(nd, len(merchants), dtype=np.int64))
        merchant_id = f"{acquirer}{p.area[i][:4]:0>4}{mcc}{sequence:04d}"
        merchants.append((bid, merchant_id, mcc, expected, mismatch))

    g = _cat(gross, np.int64)
    traded = g > 0
    tk = _cat(ticket, np.float64)
    txn = np.where(traded, np.maximum(1, _round_half_up(g / np.maximum(tk, 1.0))), 0)
    hit = traded & (_cat(refund_u, np.float64) < 0.25)
    raw_refund = _round_half_up(g * _cat(refund_rate, np.float64) * _cat(refund_size, np.float64))
    refund = np.where(hit, np.minimum(raw_refund * 4, g // 2), 0)
    fee = _round_half_up((g - refund) * _cat(mdr, np.float64))
    which = _cat(merchant_of_row, np.int64)
    merchant_ids = pl.Series([m[1] for m in merchants], dtype=pl.Utf8)
    mccs = pl.Series([m[2] for m in merchants], dtype=pl.Utf8)
    trade_date = _cat(days, "datetime64[D]")
    keep = traded
    frame = pl.DataFrame(
        {
            "business_id": _cat(ids, np.int64)[keep],
            "merchant_id": merchant_ids.gather(which[keep]),
            "mcc": mccs.gather(which[keep]),
            "settle_date": trade_date[keep] + np.timedelta64(1, "D"),
            "trade_date": trade_date[keep],
            "txn_count": txn[keep],
            "gross_fen": g[keep],
            "refund_fen": refund[keep],
            "fee_fen": fee[keep],
            "net_fen": (g - refund - fee)[keep],
        },
        schema=POS_SCHEMA,
    )
    truth = pl.DataFrame(
        merchants,
        schema={
            "business_id": pl.Int64,
            "merchant_id": pl.Utf8,
            "mcc": pl.Utf8,
            "expected_mcc": pl.Utf8,
            "mcc_mismatch": pl.Boolean,
        },
        orient="row",
    )
    return frame, truth


POS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "business_id": pl.Int64,
    "merchant_id": pl.Utf8,
    "mcc": pl.Utf8,
    "settle_date": pl.Date,
    "trade_date": pl.Date,
    "txn_count": pl.Int64,
    "gross_fen": pl.Int64,
    "refund_fen": pl.Int64,
    "fee_fen": pl.Int64,
    "net_fen": pl.Int64,
}

# --- e-commerce -------------------------------------------------------------------------------

STORE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "business_id": pl.Int64,
    "store_id": pl.Utf8,
    "platform": pl.Utf8,
    "month": pl.Date,
    "gmv_fen": pl.Int64,
    "orders": pl.Int64,
    "refund_fen": pl.Int64,
    "refund_orders": pl.Int64,
    "commission_fen": pl.Int64,
    "payout_fen": pl.Int64,
    "aov_fen": pl.Int64,
    "rating": pl.Float64,
    "negative_review_rate": pl.Float64,
    "store_age_months": pl.Int64,
}


def _ecommerce(chunk: Chunk, p: _Panel) -> tuple[pl.DataFrame, np.ndarray]:
    """Store-month rows, and each business's orders by month (for web traffic)."""
    span = int(p.activity.shape[1])
    rows_b: list[np.ndarray] = []  # panel row of the business
    store_ids: list[str] = []
    store_platform: list[str] = []
    store_of_row: list[np.ndarray] = []
    month_pos: list[np.ndarray] = []
    payout: list[np.ndarray] = []
    commission: list[np.ndarray] = []
    refund_rate: list[np.ndarray] = []
    aov: list[np.ndarray] = []
    rating: list[np.ndarray] = []
    negative: list[np.ndarray] = []
    age: list[np.ndarray] = []
    refund_order_noise: list[np.ndarray] = []
    positions = np.arange(span)
    for i in np.flatnonzero(p.has_ecommerce):
        bid = int(p.ids[i])
        plan = store_plan(chunk, bid, p.industry[i])
        rng = plan.rng
        online_seller = p.industry[i] == "ecommerce"
        pays = store_payouts(plan, p.platform_fen[i])
        act = p.activity[i]
        pd_i = p.pd[i]
        for j, plat in enumerate(plan.platforms):
            lo, hi = plat.commission
            comm = lo + (hi - lo) * rng.random()
            rlo, rhi = plat.refund
            rr_base = (rlo + (rhi - rlo) * rng.random()) * (1.0 + 2.0 * pd_i)
            aov_base = plat.aov_cny * 100.0 * rng.lognormal(0.0, 0.35)
            rating_base = float(np.clip(4.8 - 0.6 * pd_i + rng.normal(0.0, 0.08), 4.45, 4.95))
            neg_base = (0.004 + 0.02 * pd_i) * rng.lognormal(0.0, 0.6)
            lifetime = max(1.0, p.years[i] * 12.0)
            opened = int(max(1, round(lifetime * rng.uniform(0.6 if online_seller else 0.2, 1.0))))
            rr = np.clip(
                rr_base * rng.lognormal(0.0, 0.15, span) * (1.0 + 0.6 * (1.0 - act)), 0.0, 0.6
            )
            rows_b.append(np.full(span, i, dtype=np.int64))
            store_of_row.append(np.full(span, len(store_ids), dtype=np.int64))
            store_ids.append(f"{plat.code}{bid:08d}{j + 1}")
            store_platform.append(plat.name_zh)
            month_pos.append(positions)
            payout.append(np.asarray(pays[j], dtype=np.int64))
            commission.append(np.full(span, comm))
            refund_rate.append(rr)
            aov.append(rng.lognormal(0.0, 0.1, span) * aov_base)
            rating.append(
                np.clip(rating_base + rng.normal(0.0, 0.02, span) - 0.25 * (1.0 - act), 3.5, 5.0)
            )
            negative.append(
                np.clip(neg_base * rng.lognormal(0.0, 0.3, span) * (1.0 + 1.5 * (1.0 - act)), 0, 1)
            )
            age.append(positions + opened)
            refund_order_noise.append(rng.uniform(0.8, 1.2, span))

    pay = _cat(payout, np.int64)
    comm_rate = _cat(commission, np.float64)
    rr_all = _cat(refund_rate, np.float64)
    comm_fen = _round_half_up(pay * comm_rate / (1.0 - comm_rate))
    refund_fen = _round_half_up((pay + comm_fen) * rr_all / (1.0 - rr_all))
    gmv = pay + comm_fen + refund_fen
    sold = gmv > 0
    orders = np.where(sold, np.maximum(1, _round_half_up(gmv / _cat(aov, np.float64))), 0)
    refund_orders = np.minimum(
        orders, _round_half_up(orders * rr_all * _cat(refund_order_noise, np.float64))
    )
    refund_orders = np.where(refund_fen > 0, np.maximum(refund_orders, 1), 0)
    refund_orders = np.minimum(refund_orders, orders)
    aov_fen = np.where(orders > 0, gmv // np.maximum(orders, 1), 0)
    b_row = _cat(rows_b, np.int64)
    pos = _cat(month_pos, np.int64)
    monthly_orders = np.zeros(p.activity.shape, dtype=np.int64)
    np.add.at(monthly_orders, (b_row, pos), orders)
    month_idx = p.first_month[b_row] + pos if len(b_row) else np.zeros(0, dtype=np.int64)
    which = _cat(store_of_row, np.int64)
    sid = pl.Series(store_ids, dtype=pl.Utf8)
    plat_name = pl.Series(store_platform, dtype=pl.Utf8)
    keep = sold
    frame = (
        pl.DataFrame(
            {
                "business_id": p.ids[b_row][keep] if len(b_row) else np.zeros(0, np.int64),
                "store_id": sid.gather(which[keep]),
                "platform": plat_name.gather(which[keep]),
                "month_index": month_idx[keep],
                "gmv_fen": gmv[keep],
                "orders": orders[keep],
                "refund_fen": refund_fen[keep],
                "refund_orders": refund_orders[keep],
                "commission_fen": comm_fen[keep],
                "payout_fen": pay[keep],
                "aov_fen": aov_fen[keep],
                "rating": np.round(_cat(rating, np.float64)[keep], 2),
                "negative_review_rate": np.round(_cat(negative, np.float64)[keep], 4),
                "store_age_months": _cat(age, np.int64)[keep],
            },
            schema_overrides={"business_id": pl.Int64, "month_index": pl.Int64},
        )
        .with_columns(
            pl.date(pl.col("month_index") // 12, pl.col("month_index") % 12 + 1, 1).alias("month")
        )
        .select(list(STORE_SCHEMA))
        .cast(STORE_SCHEMA)  # type: ignore[arg-type]
    )
    return frame, monthly_orders


# --- web traffic ------------------------------------------------------------------------------

TRAFFIC_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "business_id": pl.Int64,
    "date": pl.Date,
    "pv": pl.Int64,
    "uv": pl.Int64,
    "orders": pl.Int64,
    "conversion": pl.Float64,
}
WEEKDAY_WEB = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1])


def _promotions(cal: _Calendar) -> np.ndarray:
    """Shopping festivals: 618 (June 1–18, peak on the 18th), 双十一 (Nov 1–11), 双十二."""
    f = np.ones(len(cal.days))
    june = cal.month_of_year == 6
    nov = cal.month_of_year == 11
    f = np.where(june & (cal.day_of_month <= 18), 1.5, f)
    f = np.where(june & (cal.day_of_month == 18), 3.0, f)
    f = np.where(nov & (cal.day_of_month <= 11), 1.6, f)
    f = np.where(nov & (cal.day_of_month == 11), 4.0, f)
    return np.where((cal.month_of_year == 12) & (cal.day_of_month == 12), 2.0, f)


def _web(chunk: Chunk, p: _Panel, cals: _Calendars, orders: np.ndarray) -> pl.DataFrame:
    ids: list[np.ndarray] = []
    days: list[np.ndarray] = []
    day_orders: list[np.ndarray] = []
    expected_uv: list[np.ndarray] = []
    uv_noise: list[np.ndarray] = []
    pages: list[np.ndarray] = []
    for i in np.flatnonzero(p.has_web):
        bid = int(p.ids[i])
        rng = chunk.rng(bid, Stream.WEB_TRAFFIC)
        conv = rng.uniform(0.012, 0.035)
        per_visit = rng.uniform(2.0, 5.0)
        cal = cals(int(p.first_month[i]))
        nd = len(cal.days)
        w = WEEKDAY_WEB[cal.weekday] * _promotions(cal) * rng.gamma(6.0, 1.0 / 6.0, nd)
        amounts, share = _split(orders[i], w, cal)
        ids.append(np.full(nd, bid, dtype=np.int64))
        days.append(cal.days)
        day_orders.append(amounts)
        expected_uv.append(share * (orders[i] / conv)[cal.month_pos])
        uv_noise.append(rng.lognormal(0.0, 0.15, nd))
        pages.append(per_visit * rng.lognormal(0.0, 0.1, nd))
    o = _cat(day_orders, np.int64)
    uv = np.maximum(o, _round_half_up(_cat(expected_uv, np.float64) * _cat(uv_noise, np.float64)))
    pv = np.maximum(uv, _round_half_up(uv * _cat(pages, np.float64)))
    keep = uv > 0
    conversion = np.round(o[keep] / np.maximum(uv[keep], 1), 4)
    return pl.DataFrame(
        {
            "business_id": _cat(ids, np.int64)[keep],
            "date": _cat(days, "datetime64[D]")[keep],
            "pv": pv[keep],
            "uv": uv[keep],
            "orders": o[keep],
            "conversion": conversion,
        },
        schema=TRAFFIC_SCHEMA,
    )


# --- workplace --------------------------------------------------------------------------------

ATTENDANCE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "business_id": pl.Int64,
    "date": pl.Date,
    "staff": pl.Int64,
    "present": pl.Int64,
    "late": pl.Int64,
    "leave": pl.Int64,
    "absent": pl.Int64,
    "approvals": pl.Int64,
    "approvals_leave": pl.Int64,
    "approvals_expense": pl.Int64,
    "approvals_purchase": pl.Int64,
}


def _workplace(chunk: Chunk, p: _Panel, cals: _Calendars) -> pl.DataFrame:
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ATTENDANCE_SCHEMA if c != "approvals"}
    for i in np.flatnonzero(p.has_workplace):
        bid = int(p.ids[i])
        rng = chunk.rng(bid, Stream.WORKPLACE)
        base = rng.uniform(0.94, 0.99)
        late_rate = rng.uniform(0.02, 0.07) * np.exp(-0.25 * p.discipline[i])
        leave_share = rng.uniform(0.6, 0.85)
        cal = cals(int(p.first_month[i]))
        schedule = np.asarray(SCHEDULES.get(p.industry[i], FIVE_DAYS))
        act_all = p.activity[i][cal.month_pos]
        staff_all = p.headcount[i][cal.month_pos]
        work = np.flatnonzero(schedule[cal.weekday] & (staff_all > 0) & (act_all > 0))
        a = act_all[work]
        staff = staff_all[work]
        distress = 1.0 - a
        present_p = np.clip(base - 0.45 * distress + rng.normal(0.0, 0.01, len(work)), 0.2, 1.0)
        present = rng.binomial(staff, present_p)
        leave = rng.binomial(staff - present, np.clip(leave_share - 0.4 * distress, 0.05, 1.0))
        late = rng.binomial(present, np.clip(late_rate * (1.0 + 2.0 * distress), 0.0, 0.6))
        cols["business_id"].append(np.full(len(work), bid, dtype=np.int64))
        cols["date"].append(cal.days[work])
        cols["staff"].append(staff)
        cols["present"].append(present)
        cols["late"].append(late)
        cols["leave"].append(leave)
        cols["absent"].append(staff - present - leave)
        cols["approvals_leave"].append(rng.binomial(leave, 0.7))
        cols["approvals_expense"].append(rng.poisson(0.03 * staff * a))
        cols["approvals_purchase"].append(rng.poisson(0.25 * a * (1.0 + np.log1p(staff) / 3.0)))
    data = {c: _cat(v, "datetime64[D]" if c == "date" else np.int64) for c, v in cols.items()}
    data["approvals"] = (
        data["approvals_leave"] + data["approvals_expense"] + data["approvals_purchase"]
    )
    return pl.DataFrame({c: data[c] for c in ATTENDANCE_SCHEMA}, schema=ATTENDANCE_SCHEMA)


# --- the renderer -----------------------------------------------------------------------------


def render(chunk: Chunk) -> Rendered:
    """POS settlements, e-commerce stores, web traffic and workplace attendance of a chunk."""
    panel = _panel(chunk)
    cals = _Calendars(chunk.config.months + chunk.config.follow_months)
    pos, merchants = _pos(chunk, panel, cals)
    stores, orders = _ecommerce(chunk, panel)
    return Rendered(
        tables={
            "pos/settlements": pos,
            "ecommerce/store_monthly": stores,
            "web/traffic": _web(chunk, panel, cals, orders),
            "workplace/attendance": _workplace(chunk, panel, cals),
        },
        truth={"channels/pos_merchants": merchants},
    )
