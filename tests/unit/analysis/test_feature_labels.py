"""Feature labels and reason texts in zh-CN and en (特征名称与评分原因说明), issue 5.

Every column of a simulated run's feature table (120 businesses, seed 11, one worker, as in
``tests/integration/test_feature_table.py``) has a label in both languages; reason codes of
scorecards fitted on real bins read as sentences.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.analysis.feature_labels import (
    GROUPS,
    ValueKind,
    bin_text,
    feature_group,
    feature_kind,
    feature_label,
    group_label,
    reason_text,
)
from xiaowei.core.i18n import Lang
from xiaowei.scoring.binning import Binning
from xiaowei.scoring.datasets import synthetic
from xiaowei.scoring.scorecard import Scorecard
from xiaowei.services.features import feature_table
from xiaowei.simulate.config import SimulationConfig
from xiaowei.simulate.generate import run

LANGS: tuple[Lang, ...] = ("zh-CN", "en")
CJK = re.compile(r"[\u3400-\u9fff]")
# what a bin label of scoring/binning.py shows and a reader must never see
RAW_TOKENS = ("inf", "e+", "e-0", "__other__", "(+unseen)", "special ", "_")


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("labels") / "sim"
    run(SimulationConfig(businesses=120, seed=11), out, workers=1, export_businesses=0)
    return feature_table(out)


# --- labels of the feature table ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_column_has_a_label_of_its_own(table: pl.DataFrame, lang: Lang) -> None:
    labels = {c: feature_label(c, lang) for c in table.columns}
    assert len(labels) == 360  # 352 features + 7 application columns + default_12m
    assert [c for c, label in labels.items() if label == c or not label] == []
    assert [label for label in labels.values() if "_" in label] == []
    repeated = {label: n for label, n in Counter(labels.values()).items() if n > 1}
    assert repeated == {}
    if lang == "zh-CN":
        assert [c for c, label in labels.items() if not CJK.search(label)] == []
    else:
        assert [c for c, label in labels.items() if CJK.search(label)] == []


def test_every_column_belongs_to_a_named_group(table: pl.DataFrame) -> None:
    groups = Counter(feature_group(c) for c in table.columns)
    assert groups == {
        "flow": 102,
        "bureau": 136,
        "fin": 20,
        "pos": 22,
        "ecom": 27,
        "att": 22,
        "soft": 12,
        "net": 11,
        "application": 8,
    }
    prefixed = [c for c in table.columns if feature_group(c) not in ("application",)]
    assert all(c.startswith(feature_group(c) + "_") for c in prefixed)


@pytest.mark.parametrize(
    ("name", "zh", "en"),
    [
        pytest.param(
            "flow_revenue_mean_6m", "近6个月月均营业收入", "Average monthly revenue, last 6 months"
        ),
        pytest.param(
            "flow_adb_mean_12m", "近12个月日均余额", "Average daily balance, last 12 months"
        ),
        pytest.param("bureau_hard_inquiries_1m", "近1个月硬查询次数", "Hard inquiries, last month"),
        pytest.param(
            "bureau_overdue_months_3plus_24m",
            "近24个月逾期60天以上账户月数",
            "Account-months over 60 days past due, last 24 months",
        ),
        pytest.param(
            "bureau_lending_institutions",
            "未结清贷款机构数（多头借贷）",
            "Institutions with open loans",
        ),
        pytest.param("bureau_guarantees_balance", "对外担保余额", "Balance of guaranteed debts"),
        pytest.param("fin_debt_ratio", "资产负债率", "Debt ratio (liabilities ÷ assets)"),
        pytest.param(
            "pos_avg_ticket_fen_3m", "近3个月POS客单价", "POS average ticket, last 3 months"
        ),
        pytest.param(
            "soft_overdue_months_24m",
            "近24个月逾期月数（软信息）",
            "Overdue months (soft information), last 24 months",
        ),
        pytest.param("net_in_circle", "处于担保圈", "In a guarantee circle"),
        pytest.param("requested_amount_fen", "申请金额", "Requested amount"),
    ],
)
def test_labels_say_what_the_feature_measures(name: str, zh: str, en: str) -> None:
    assert feature_label(name, "zh-CN") == zh
    assert feature_label(name, "en") == en


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("flow_revenue_mean_6m", ValueKind.FEN),  # fen (flows.py: money stays integer fen)
        ("bureau_total_outstanding", ValueKind.YUAN),  # the report's integer yuan
        ("bureau_monthly_debt_service", ValueKind.YUAN),
        ("flow_cash_share_3m", ValueKind.SHARE),
        ("bureau_hard_inquiries_24m", ValueKind.COUNT),
        ("soft_owner_married", ValueKind.FLAG),
        ("soft_owner_education", ValueKind.EDUCATION),
        ("industry", ValueKind.CATEGORY),
        # names outside the tables: the suffix decides
        ("my_turnover_fen", ValueKind.FEN),
        ("my_refund_share_3m", ValueKind.SHARE),
        ("my_visits_count", ValueKind.COUNT),
        ("my_score", ValueKind.NUMBER),
    ],
)
def test_kind_of_value(name: str, kind: ValueKind) -> None:
    assert feature_kind(name) is kind


def test_groups_have_names_in_both_languages() -> None:
    assert group_label("flow", "zh-CN") == "银行流水"
    assert group_label("bureau", "zh-CN") == "征信"
    assert group_label("fin", "zh-CN") == "财务（IPC）"
    assert group_label("net", "zh-CN") == "关联网络"
    assert group_label("application", "zh-CN") == "申请信息"
    assert group_label("pos", "en") == "POS acquiring"
    assert all(CJK.search(zh) and not CJK.search(en) for en, zh in GROUPS.values())
    assert group_label("mine", "en") == "mine"


def test_unknown_names_fall_back_never_raise() -> None:
    for lang in LANGS:
        assert feature_label("my_own_column", lang) == "my_own_column"
        assert feature_label("", lang) == ""
        assert feature_label("flow_", lang) == "flow_"
    assert feature_group("my_own_column") == "other"
    assert group_label("other", "zh-CN") == "其他"
    # a known source, an unknown stem: its words, marked with the source
    assert feature_label("flow_rent_paid_fen_3m", "zh-CN") == "近3个月银行流水：rent paid"
    assert feature_label("flow_rent_paid_fen_3m", "en") == (
        "Rent paid, last 3 months (bank statements)"
    )
    assert reason_text("my_own_column", "[1.5, 2)", "en") == "my_own_column: 1.5 to 2"
    assert (
        reason_text("my_own_column", "whatever it is", "zh-CN") == "my_own_column：whatever it is"
    )


# --- bin labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "label", "zh", "en"),
    [
        ("requested_amount_fen", "(-inf, 4e+06)", "< 4万元", "< CNY 40,000"),
        (
            "requested_amount_fen",
            "[4e+06, 4.42e+07)",
            "4万元至44.2万元",
            "CNY 40,000 to CNY 442,000",
        ),
        ("requested_amount_fen", "[1.5e+10, inf)", "≥ 1.5亿元", "≥ CNY 150,000,000"),
        ("pos_avg_ticket_fen_3m", "[5054.5, 13450)", "50.55元至135元", "CNY 50.55 to CNY 135"),
        ("flow_net_3m", "(-inf, -250000)", "< -2,500元", "< CNY -2,500"),
        ("bureau_total_outstanding", "[150000, inf)", "≥ 15万元", "≥ CNY 150,000"),
        ("bureau_hard_inquiries_3m", "(-inf, 1)", "0", "0"),
        ("bureau_hard_inquiries_3m", "[3, 5)", "3至4", "3 to 4"),
        ("bureau_hard_inquiries_3m", "[2.5, 3.5)", "3", "3"),
        ("bureau_hard_inquiries_3m", "[5, inf)", "≥ 5", "≥ 5"),
        ("flow_customer_top1_share_12m", "[0.108304, 0.690977)", "10.8%至69.1%", "10.8% to 69.1%"),
        ("pos_refund_rate_3m", "(-inf, 0.00185)", "< 0.185%", "< 0.185%"),
        ("flow_revenue_trend_6m", "(-inf, -0.025)", "< -2.5%", "< -2.5%"),
        ("flow_revenue_trend_6m", "[0.05, inf)", "≥ +5%", "≥ +5%"),
        ("fin_margin_difference", "[-0.05, 0.1)", "-5个百分点至+10个百分点", "-5 pp to +10 pp"),
        ("soft_years_in_business", "[1.94969, 6.20396)", "1.95至6.2", "1.95 to 6.2"),
        ("fin_inventory_turnover", "[1234.5, inf)", "≥ 1,235", "≥ 1,235"),
        ("soft_owner_married", "(-inf, 1)", "否", "no"),
        ("net_in_circle", "[1, inf)", "是", "yes"),
        ("soft_owner_education", "(-inf, 2)", "初中及以下", "middle school or less"),
        (
            "soft_owner_education",
            "[2, 4)",
            "高中/中专至大专",
            "high school or technical secondary to junior college",
        ),
        ("soft_owner_education", "[4, inf)", "本科及以上", "university"),
        (
            "industry",
            "catering, trade, __other__ (+unseen)",
            "餐饮、商贸批发零售、其他（或新类别）",
            "catering, wholesale and retail trade, other (or an unseen level)",
        ),
        ("region", "HLD, GZ", "葫芦岛、赣州", "Huludao, Ganzhou"),
        (
            "legal_form",
            "有限责任公司, 合伙企业",
            "有限责任公司、合伙企业",
            "limited liability company, partnership",
        ),
        ("industry", "(none)", "无", "none"),
        ("bureau_hard_inquiries_3m", "missing", "缺失", "missing"),
        ("bureau_hard_inquiries_3m", "special -999", "特殊值 -999", "special value -999"),
        ("flow_revenue_mean_6m", "(-inf, inf)", "全部取值", "any value"),
    ],
)
def test_bin_labels_read_as_values(feature: str, label: str, zh: str, en: str) -> None:
    assert bin_text(feature, label, "zh-CN") == zh
    assert bin_text(feature, label, "en") == en


# --- reason texts on fitted bins ----------------------------------------------------------------

#: synthetic() columns renamed to feature-table names of the same kind of value (scaled by a
#: positive constant where a unit needs it: binning is invariant to that, edges scale with it).
_RENAMED = {
    "mono_02": "flow_revenue_mean_6m",  # lognormal amounts, ×100 → fen
    "mono_03": "bureau_hard_inquiries_3m",  # Poisson counts, with missing values
    "mono_04": "flow_cash_share_12m",  # uniform ratios
    "mono_05": "soft_years_in_business",  # exponential durations
    "mono_01": "att_rate_12m",  # normal(50, 15), ÷100 → a rate, with missing values
}


@pytest.fixture(scope="module")
def synthetic_card() -> tuple[Scorecard, pl.DataFrame]:
    x, y = synthetic(4000, 1)
    x = (
        x.select(list(_RENAMED))
        .rename(_RENAMED)
        .with_columns(pl.col("flow_revenue_mean_6m") * 100, pl.col("att_rate_12m") / 100)
    )
    return Scorecard(Binning(n_jobs=1)).fit(x, y), x


def test_reason_texts_of_a_fitted_scorecard(synthetic_card: tuple[Scorecard, pl.DataFrame]) -> None:
    card, x = synthetic_card
    codes = card.reason_code_frame(x.head(4))
    got = [
        (r["row"], r["label"], reason_text(r["feature"], r["label"], "zh-CN"),
         reason_text(r["feature"], r["label"], "en"))
        for r in codes.iter_rows(named=True)
    ]  # fmt: skip
    assert got[:8] == [
        (0, "[0.89777, 0.945677)", "近12个月取现占出账比例：89.8%至94.6%",
         "Cash withdrawals' share of outflows, last 12 months: 89.8% to 94.6%"),
        (0, "missing", "近3个月硬查询次数：缺失", "Hard inquiries, last 3 months: missing"),
        (0, "missing", "近6个月月均营业收入：缺失",
         "Average monthly revenue, last 6 months: missing"),
        (0, "[9.64322, inf)", "经营年限（年）：≥ 9.64", "Years in business: ≥ 9.64"),
        (1, "[0.108304, 0.690977)", "近12个月取现占出账比例：10.8%至69.1%",
         "Cash withdrawals' share of outflows, last 12 months: 10.8% to 69.1%"),
        (1, "[4.94593e+06, inf)", "近6个月月均营业收入：≥ 4.95万元",
         "Average monthly revenue, last 6 months: ≥ CNY 49,459"),
        (1, "[3, 5)", "近3个月硬查询次数：3至4", "Hard inquiries, last 3 months: 3 to 4"),
        (2, "[0.89777, 0.945677)", "近12个月取现占出账比例：89.8%至94.6%",
         "Cash withdrawals' share of outflows, last 12 months: 89.8% to 94.6%"),
    ]  # fmt: skip
    row3 = [g for g in got if g[0] == 3]
    assert (3, "(-inf, 0.340293)", "近12个月出勤率：< 34%",
            "Attendance rate, last 12 months: < 34%") in row3  # fmt: skip


def test_reason_text_against_the_best_bin(synthetic_card: tuple[Scorecard, pl.DataFrame]) -> None:
    card, _ = synthetic_card
    table = card.points_table()
    att = table.filter(pl.col("feature") == "att_rate_12m")
    best = att.sort("points", descending=True)["label"][0]
    assert best == "[0.454998, inf)"
    assert att["label"].to_list()[:2] == ["(-inf, 0.340293)", "[0.340293, 0.454998)"]
    assert reason_text("att_rate_12m", "(-inf, 0.340293)", "zh-CN", best_label=best) == (
        "近12个月出勤率偏低（< 34%）"
    )
    assert reason_text("att_rate_12m", "[0.340293, 0.454998)", "en", best_label=best) == (
        "Attendance rate, last 12 months is low (34% to 45.5%)"
    )
    # above the best bin reads high; missing or the best bin itself have no direction
    assert reason_text("bureau_hard_inquiries_3m", "[5, inf)", "zh-CN", best_label="(-inf, 1)") == (
        "近3个月硬查询次数偏高（≥ 5）"
    )
    assert (
        reason_text("att_rate_12m", "missing", "zh-CN", best_label=best) == "近12个月出勤率：缺失"
    )
    assert reason_text("att_rate_12m", best, "en", best_label=best) == (
        "Attendance rate, last 12 months: ≥ 45.5%"
    )


def test_reason_texts_on_the_runs_own_bins(table: pl.DataFrame) -> None:
    columns = [
        "industry",
        "legal_form",
        "requested_amount_fen",
        "flow_revenue_mean_6m",
        "bureau_hard_inquiries_24m",
        "soft_owner_education",
        "fin_debt_ratio",
    ]
    y = table["default_12m"].to_numpy()
    assert int(y.sum()) >= 5  # the run has defaults to bin on
    card = Scorecard(Binning(categorical=["industry", "legal_form"], n_jobs=1, min_bads=1))
    card.fit(table.select(columns), y)
    codes = card.reason_code_frame(table.select(columns))
    assert codes.height > 0
    industry = {"trade": "商贸批发零售", "manufacturing": "加工制造", "service": "生活服务",
                "catering": "餐饮", "agriculture": "种养殖", "ecommerce": "电子商务"}  # fmt: skip
    for r in codes.iter_rows(named=True):
        zh = reason_text(r["feature"], r["label"], "zh-CN")
        en = reason_text(r["feature"], r["label"], "en")
        assert zh.startswith(feature_label(r["feature"], "zh-CN") + "：")
        assert en.startswith(feature_label(r["feature"], "en") + ": ")
        for token in RAW_TOKENS:
            assert token not in zh.split("：", 1)[1], (zh, token)
            assert token not in en.split(": ", 1)[1], (en, token)
        if r["feature"] == "industry":
            levels = zh.split("：", 1)[1].removesuffix("（或新类别）").split("、")
            assert set(levels) <= {*industry.values(), "其他"}
            assert {industry[lv] for lv in r["label"].removesuffix(" (+unseen)").split(", ")} == (
                set(levels)
            )
        if r["feature"] == "bureau_hard_inquiries_24m":
            assert re.fullmatch(r"近24个月硬查询次数：(\d+|\d+至\d+|≥ \d+|缺失)", zh), zh


def test_numbers_never_show_in_exponent_form() -> None:
    edges = np.geomspace(1e-6, 1e12, 40)
    for a, b in itertools.pairwise(edges):
        label = f"[{a:.6g}, {b:.6g})"
        for feature in ("flow_revenue_mean_6m", "flow_revenue_cv_3m", "flow_cash_share_3m"):
            for lang in LANGS:
                text = bin_text(feature, label, lang)
                assert not re.search(r"\de[+-]", text), (feature, label, text)


def test_no_two_names_read_the_same_beyond_the_run() -> None:
    """Every stem of every source, bare and over every window, plus the application columns."""
    from xiaowei.analysis import feature_labels

    names = list(feature_labels._APPLICATION)
    for group, stems in feature_labels._STEMS.items():
        for stem in stems:
            names += [f"{group}_{stem}"] + [f"{group}_{stem}_{w}m" for w in (1, 3, 6, 12, 24)]
    for lang in LANGS:
        counts = Counter(feature_label(n, lang) for n in names)
        assert [label for label, n in counts.items() if n > 1] == []


_NAMES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["flow_", "flow__3m", "bureau_3m", "pos_x_fen_99m", "soft_owner_education"]),
)
_LABELS = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda lo, hi, open_below: f"{'(' if open_below else '['}{lo:.6g}, {hi:.6g})",
        st.floats(allow_nan=True),
        st.floats(allow_nan=True),
        st.booleans(),
    ),
)


@settings(max_examples=300, deadline=None)
@given(name=_NAMES, label=_LABELS)
def test_any_name_and_label_give_a_text_never_an_error(name: str, label: str) -> None:
    for lang in LANGS:
        assert isinstance(feature_label(name, lang), str)
        text = reason_text(name, label, lang, best_label="[0, 1)")
        assert text.startswith(feature_label(name, lang))
