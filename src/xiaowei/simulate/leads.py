"""Marketing leads (营销线索) and the loan officers who work them (客户经理).

Every applicant of the population was a lead once; most leads never apply. Four channels:

* 扫街 (``street``, street canvassing): officers walk a market or a shopping street and list
  the shops; many leads, few of them apply (about 1 in 8), and the ones who do are on average
  riskier (those a bank has not yet served);
* 网点广告 (``branch``, branch advertising): walk-ins and calls from posters and ads at a branch;
  self-selected, about 1 in 4 apply, of average quality;
* 机构推荐 (``referral``, institution referral): a chamber of commerce (商会), a market's
  management office (市场管理方) or a core enterprise vouching for its distributors and
  suppliers (核心企业); the best conversion (about 1 in 3) and the best quality, since the
  referrer knows the business and puts its name behind it;
* 精准营销 (``precision``, precision-marketing lists): lists built from data the institution
  already holds (payroll-agency clients 代发工资, POS merchants, 银税互动 tax-credit lists,
  existing depositors); between the two in conversion (about 1 in 5.5), and better than
  average in quality since the lists pre-select businesses with visible, steady flows.

How the applicants' channels are drawn: each business gets channel ``c`` with probability
proportional to ``share_c · exp(tilt_c · z)``, where ``z`` is the standardised true default
log-odds (latent): a negative tilt draws the better businesses. The non-converted leads
(prospects) are then added per channel so that leads / applicants = 1 / conversion, and the
funnel (lead → contacted 已联系 → interested 有意向 → applied 已申请) has the channel's stage
rates overall. Prospects carry invented shop names, an industry and a region drawn from the
configured shares. Dates: an applicant's lead is created a channel-typical number of days
before its application date, and contact and interest fall in between; prospects' leads are
created over the application window (from 90 days before it).

Population-level and drawn from ``population_rng(seed, Stream.LEADS)``: the leads of a run do
not depend on chunking. Observable only; the channel's link to quality is visible through the
applicants' outcomes, not through a column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from xiaowei.simulate import vocab
from xiaowei.simulate.config import Region
from xiaowei.simulate.output import Rendered
from xiaowei.simulate.random import Stream, choice_index, population_rng
from xiaowei.simulate.world import World


@dataclass(frozen=True, slots=True)
class LeadChannel:
    """A marketing channel (获客渠道) and its funnel."""

    code: str
    name_zh: str
    share: float  # share of applicants before the quality tilt
    tilt: float  # on the standardised default log-odds: negative draws better businesses
    contact: float  # lead → contacted
    interest: float  # contacted → interested
    apply: float  # interested → applied
    lag_days: tuple[int, int]  # days from lead to application, for the converted

    @property
    def conversion(self) -> float:
        """Share of the channel's leads that apply (线索转化率)."""
        return self.contact * self.interest * self.apply


LEAD_CHANNELS: tuple[LeadChannel, ...] = (
    LeadChannel("street", "扫街", 0.30, 0.35, 0.70, 0.35, 0.52, (10, 90)),
    LeadChannel("branch", "网点广告", 0.25, 0.0, 0.85, 0.55, 0.55, (3, 30)),
    LeadChannel("referral", "机构推荐", 0.25, -0.5, 0.95, 0.62, 0.55, (5, 30)),
    LeadChannel("precision", "精准营销", 0.20, -0.3, 0.60, 0.50, 0.60, (7, 60)),
)

STREETS = (
    "人民路商业街",
    "解放路商圈",
    "中山路步行街",
    "农贸市场",
    "建材市场",
    "小商品市场",
    "工业园区",
)
REFERRERS: tuple[tuple[str, str], ...] = (
    ("商会", "{city}温州商会"),
    ("商会", "{city}福建商会"),
    ("商会", "{city}个体劳动者协会"),
    ("市场管理方", "{city}小商品市场管理处"),
    ("市场管理方", "{city}农贸市场管理办公室"),
    ("市场管理方", "{city}建材城物业管理有限公司"),
    ("核心企业", "{city}{shop}集团有限公司"),
    ("核心企业", "{city}{shop}食品有限公司"),
)
LISTS = (
    "代发工资客户名单",
    "POS收单商户名单",
    "银税互动名单",
    "存量存款客户名单",
    "水电缴费商户名单",
)
BRANCH_WORDS = ("城东", "城西", "城南", "城北", "高新", "开发区", "中心")
APPLICANTS_PER_OFFICER = 120
OFFICERS_PER_BRANCH = 5
PROSPECT_WINDOW_DAYS = 90  # prospects' leads start this many days before the window

LEADS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "lead_id": pl.Int64,
    "channel": pl.Utf8,
    "channel_zh": pl.Utf8,
    "source_kind": pl.Utf8,
    "source": pl.Utf8,
    "created_date": pl.Date,
    "business_id": pl.Int64,
    "prospect_name": pl.Utf8,
    "industry": pl.Utf8,
    "region": pl.Utf8,
    "contacted": pl.Boolean,
    "contacted_date": pl.Date,
    "interested": pl.Boolean,
    "interested_date": pl.Date,
    "applied": pl.Boolean,
    "applied_date": pl.Date,
    "officer_id": pl.Int64,
}


def draw_leads(world: World) -> Rendered:
    """``leads/leads`` (one row per lead) and ``leads/officers`` (客户经理)."""
    config = world.config
    rng = population_rng(config.seed, Stream.LEADS)
    b = world.population.businesses.sort("business_id")
    t = world.population.truth.sort("business_id")
    n = b.height
    ch = LEAD_CHANNELS
    k = len(ch)

    # The applicants' channels, tilted by their latent quality.
    logit = t["logit"].to_numpy().astype(np.float64)
    z = (logit - logit.mean()) / (logit.std() or 1.0)
    w = np.array([c.share for c in ch])[None, :] * np.exp(np.outer(z, [c.tilt for c in ch]))
    cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    channel = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), k - 1)

    regions = [r.code for r in config.regions]
    cities = {r.code: r.name_zh for r in config.regions}
    officers, by_region, branch_of = _officers(rng, config.regions, b["region"].to_list())

    # Applicants' funnel dates: lead, contact and interest before the application.
    app = b["application_date"].to_numpy().astype("datetime64[D]")
    lo = np.array([c.lag_days[0] for c in ch])[channel]
    hi = np.array([c.lag_days[1] for c in ch])[channel]
    lag = rng.integers(lo, hi + 1)
    contact_gap = np.floor(lag * rng.uniform(0.0, 0.3, n)).astype(np.int64)
    interest_gap = contact_gap + np.floor((lag - contact_gap) * rng.uniform(0.2, 0.9, n)).astype(
        np.int64
    )
    created_a = app - lag.astype("timedelta64[D]")
    region_a = np.array(b["region"].to_list(), dtype=object)
    applicants = {
        "channel_idx": channel,
        "created_date": created_a,
        "business_id": b["business_id"].to_numpy(),
        "prospect_name": np.array(b["business_name"].to_list(), dtype=object),
        "industry": np.array(b["industry"].to_list(), dtype=object),
        "region": region_a,
        "contacted": np.ones(n, dtype=bool),
        "contacted_date": created_a + contact_gap.astype("timedelta64[D]"),
        "interested": np.ones(n, dtype=bool),
        "interested_date": created_a + interest_gap.astype("timedelta64[D]"),
        "applied": np.ones(n, dtype=bool),
        "applied_date": app,
    }

    # Prospects: the leads that never applied, so that each channel converts at its rate.
    applied_by_channel = np.bincount(channel, minlength=k)
    extra = np.array(
        [
            round(a * (1.0 / c.conversion - 1.0))
            for a, c in zip(applied_by_channel.tolist(), ch, strict=True)
        ],
        dtype=np.int64,
    )
    channel_p = np.repeat(np.arange(k), extra)
    m = len(channel_p)
    leads_total = applied_by_channel + extra
    contacted_all = np.array([c.contact for c in ch]) * leads_total
    interested_all = contacted_all * np.array([c.interest for c in ch])
    q_contact = np.clip((contacted_all - applied_by_channel) / np.maximum(extra, 1), 0.0, 1.0)
    q_interest = np.clip(
        (interested_all - applied_by_channel)
        / np.maximum(contacted_all - applied_by_channel, 1e-9),
        0.0,
        1.0,
    )
    contacted_p = rng.random(m) < q_contact[channel_p]
    interested_p = contacted_p & (rng.random(m) < q_interest[channel_p])
    ind_codes = np.array([i.code.value for i in config.industries], dtype=object)
    industry_p = ind_codes[choice_index(rng, np.array([i.share for i in config.industries]), m)]
    reg_codes = np.array(regions, dtype=object)
    region_p = reg_codes[choice_index(rng, np.array([r.share for r in config.regions]), m)]
    window = (config.application_end - config.application_start).days + PROSPECT_WINDOW_DAYS
    first_day = np.datetime64(config.application_start - timedelta(days=PROSPECT_WINDOW_DAYS))
    created_p = first_day + rng.integers(0, window + 1, m).astype("timedelta64[D]")
    contacted_date_p = created_p + rng.integers(0, 8, m).astype("timedelta64[D]")
    interested_date_p = contacted_date_p + rng.integers(1, 22, m).astype("timedelta64[D]")
    shops = vocab.SHOP_WORDS[rng.integers(0, len(vocab.SHOP_WORDS), m)]
    word_pick = rng.integers(0, 1000, m)
    company = rng.random(m) < 0.3
    suffix_pick = rng.integers(0, 3, m)
    sole = vocab.LEGAL_SUFFIX["个体工商户"]
    names = [
        f"{cities[r]}市{s}"
        f"{vocab.INDUSTRY_WORDS[i][wp % len(vocab.INDUSTRY_WORDS[i])]}"
        f"{'有限公司' if co else sole[sp % len(sole)]}"
        for r, s, i, wp, co, sp in zip(
            region_p, shops, industry_p, word_pick, company, suffix_pick, strict=True
        )
    ]
    nat = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
    prospects = {
        "channel_idx": channel_p,
        "created_date": created_p,
        "business_id": np.full(m, -1, dtype=np.int64),
        "prospect_name": np.array(names, dtype=object),
        "industry": industry_p,
        "region": region_p,
        "contacted": contacted_p,
        "contacted_date": np.where(contacted_p, contacted_date_p, nat),
        "interested": interested_p,
        "interested_date": np.where(interested_p, interested_date_p, nat),
        "applied": np.zeros(m, dtype=bool),
        "applied_date": nat,
    }

    cols = {key: np.concatenate([applicants[key], prospects[key]]) for key in applicants}
    total = n + m
    idx = cols["channel_idx"]
    officer = _assign(rng, cols["region"], by_region)
    source_kind, source = _sources(
        rng, idx, cols["region"], cities, [branch_of[int(o)] for o in officer]
    )
    frame = pl.DataFrame(
        {
            "order": np.arange(total, dtype=np.int64),
            "channel": np.array([c.code for c in ch], dtype=object)[idx],
            "channel_zh": np.array([c.name_zh for c in ch], dtype=object)[idx],
            "source_kind": source_kind,
            "source": source,
            "created_date": cols["created_date"],
            "business_id": cols["business_id"],
            "prospect_name": cols["prospect_name"],
            "industry": cols["industry"],
            "region": cols["region"],
            "contacted": cols["contacted"],
            "contacted_date": cols["contacted_date"],
            "interested": cols["interested"],
            "interested_date": cols["interested_date"],
            "applied": cols["applied"],
            "applied_date": cols["applied_date"],
            "officer_id": officer,
        }
    )
    frame = (
        frame.sort("created_date", "order")
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("lead_id"),
            pl.when(pl.col("business_id") > 0).then(pl.col("business_id")).alias("business_id"),
        )
        .select(list(LEADS_SCHEMA))
        .cast(LEADS_SCHEMA)  # type: ignore[arg-type]
    )
    return Rendered(tables={"leads/leads": frame, "leads/officers": officers})


def _officers(
    rng: np.random.Generator, regions: tuple[Region, ...], applicant_regions: list[str]
) -> tuple[pl.DataFrame, dict[str, np.ndarray], dict[int, str]]:
    """Loan officers (客户经理) by region and branch (支行): enough for their applicants."""
    rows: list[tuple[int, str, str, str, str]] = []
    by_region: dict[str, np.ndarray] = {}
    counts = {code: applicant_regions.count(code) for code in sorted(set(applicant_regions))}
    officer_id = 0
    for region in regions:
        code, city = region.code, region.name_zh
        size = max(2, -(-counts.get(code, 0) // APPLICANTS_PER_OFFICER))
        branches = max(1, -(-size // OFFICERS_PER_BRANCH))
        ids = []
        for j in range(size):
            officer_id += 1
            ids.append(officer_id)
            branch = f"{city}{BRANCH_WORDS[(j % branches) % len(BRANCH_WORDS)]}支行"
            rows.append((officer_id, "", branch, code, city))
        by_region[code] = np.array(ids, dtype=np.int64)
    names = vocab.person_names(rng, len(rows))
    frame = pl.DataFrame(
        [(r[0], str(nm), r[2], r[3], r[4]) for r, nm in zip(rows, names, strict=True)],
        schema={
            "officer_id": pl.Int64,
            "name": pl.Utf8,
            "branch": pl.Utf8,
            "region": pl.Utf8,
            "city": pl.Utf8,
        },
        orient="row",
    )
    return frame, by_region, {r[0]: r[2] for r in rows}


def _assign(
    rng: np.random.Generator, region: np.ndarray, by_region: dict[str, np.ndarray]
) -> np.ndarray:
    """An officer of the lead's region for every lead."""
    u = rng.random(len(region))
    out = np.zeros(len(region), dtype=np.int64)
    for code in sorted(by_region):
        mask = region == code
        pool = by_region[code]
        out[mask] = pool[np.minimum((u[mask] * len(pool)).astype(np.int64), len(pool) - 1)]
    return out


def _sources(
    rng: np.random.Generator,
    channel: np.ndarray,
    region: np.ndarray,
    cities: dict[str, str],
    branch: list[str],
) -> tuple[list[str], list[str]]:
    """Where each lead came from: the street, the branch, the referrer or the list."""
    total = len(channel)
    street = rng.integers(0, len(STREETS), total)
    referrer = rng.integers(0, len(REFERRERS), total)
    shop = rng.integers(0, len(vocab.SHOP_WORDS), total)
    listing = rng.integers(0, len(LISTS), total)
    kinds: list[str] = []
    names: list[str] = []
    codes = [c.code for c in LEAD_CHANNELS]
    for i in range(total):
        code = codes[int(channel[i])]
        city = cities[str(region[i])]
        if code == "street":
            kinds.append("商圈")
            names.append(f"{city}{STREETS[int(street[i])]}")
        elif code == "branch":
            kinds.append("网点")
            names.append(branch[i])
        elif code == "referral":
            kind, template = REFERRERS[int(referrer[i])]
            kinds.append(kind)
            names.append(template.format(city=city, shop=vocab.SHOP_WORDS[int(shop[i])]))
        else:
            kinds.append("名单")
            names.append(LISTS[int(listing[i])])
    return kinds, names
