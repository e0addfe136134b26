"""``xiaowei capital …`` and ``xiaowei price``: Basel IRB capital and risk-based pricing.

Registered on the main app at the end of ``cli.py`` (``capital_app`` as ``xiaowei capital``,
``price_cmd`` as ``xiaowei price``); the shared helpers of ``cli.py`` are imported when a command
runs.  Numbers are read as text and parsed here, so a bad value is one clear line naming the
option (exit 1), as for every other input error.  The maths is :mod:`xiaowei.decision.capital`
and :mod:`xiaowei.decision.pricing`.
"""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang, current_lang

if TYPE_CHECKING:
    from xiaowei.lending.product import LoanProduct

capital_app = typer.Typer(
    help="Regulatory capital (监管资本): the Basel IRB risk-weight functions.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
PdOpt = Annotated[str, typer.Option("--pd", help="Probability of default, e.g. 0.02 (违约概率).")]
LgdOpt = Annotated[str, typer.Option("--lgd", help="Loss given default, e.g. 0.45 (违约损失率).")]
SalesOpt = Annotated[
    str | None,
    typer.Option(
        "--sales-million-eur",
        help="Annual sales in EUR million for the SME firm-size adjustment (clamped to 5–50).",
    ),
]

_LABEL: dict[str, tuple[str, str]] = {
    "asset_class": ("Asset class", "资产类别"),
    "pd": ("PD used (floor 0.03 %)", "违约概率(下限0.03%)"),
    "lgd": ("LGD", "违约损失率"),
    "maturity": ("Effective maturity M (years)", "有效期限M(年)"),
    "sales": ("Sales (EUR million)", "销售额(百万欧元)"),
    "correlation": ("Correlation R", "资产相关性R"),
    "b": ("Maturity adjustment b", "期限调整因子b"),
    "k": ("Capital requirement K", "资本要求K"),
    "scaling": ("Scaling factor", "调整系数"),
    "rw": ("Risk weight", "风险权重"),
    "el": ("Expected loss rate", "预期损失率"),
    "ead": ("EAD", "违约风险暴露"),
    "rwa": ("RWA", "风险加权资产"),
    "funding": ("Funding cost", "资金成本"),
    "operating": ("Operating cost", "运营成本"),
    "expected_loss": ("Expected loss (PD × LGD)", "预期损失(PD×LGD)"),
    "cost_of_capital": ("Cost of capital", "资本成本"),
    "margin": ("Margin", "目标利润"),
    "risk_based": ("Risk-based rate", "风险定价利率"),
    "rate": ("Rate offered", "执行利率"),
    "range": ("Allowed range", "允许区间"),
    "bound": ("Bound by", "受限于"),
    "capital": ("Capital per unit (C)", "单位资本占用C"),
    "raroc": ("RAROC", "风险调整资本收益率"),
    "hurdle": ("Hurdle rate", "目标资本回报率"),
}
_BOUND = {
    "product-min": ("product minimum", "产品利率下限"),
    "product-max": ("product maximum", "产品利率上限"),
    "legal-cap": ("legal cap", "法定利率上限"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "zh-CN" else pair[0]


def _number(text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(field, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(field, f"{text} is not a finite number")
    return value


def _months(text: str, field: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(field, f"{text!r} is not a whole number of months") from None


def _rate_text(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except decimal.InvalidOperation:
        raise InvalidInput(field, f"{text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidInput(field, f"{text} is not a finite number")
    return value


def _table(rows: list[tuple[str, str]], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, value in rows:
        table.add_row(label, value)
    return table


@capital_app.command("irb")
def irb_cmd(
    pd: PdOpt,
    lgd: LgdOpt,
    asset_class: Annotated[
        str,
        typer.Option(
            "--asset-class",
            help="corporate (§272–273), retail (§330), mortgage (§328), qrre (§329).",
        ),
    ],
    maturity: Annotated[
        str, typer.Option("--maturity", help="Effective maturity in years (clamped to 1–5).")
    ] = "2.5",
    sales_million_eur: SalesOpt = None,
    scaling: Annotated[
        str, typer.Option("--scaling", help="1.0 (Basel III, default) or 1.06 (Basel II).")
    ] = "1.0",
    ead: Annotated[
        str | None, typer.Option("--ead", help="Exposure at default, CNY, for the RWA.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """IRB capital of one exposure (内部评级法资本要求): correlation, b, K, risk weight, RWA."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.decision.capital import irb_capital

        result = irb_capital(
            asset_class.strip().lower(),
            pd=_number(pd, "pd"),
            lgd=_number(lgd, "lgd"),
            maturity=_number(maturity, "maturity"),
            sales_million_eur=(
                None
                if sales_million_eur is None
                else _number(sales_million_eur, "sales_million_eur")
            ),
            scaling=_number(scaling, "scaling"),
            ead=ead,
        )
        if as_json:
            _print_json(result.to_dict())
            return
        lang = current_lang()
        rows = [
            (
                _pick(_LABEL["asset_class"], lang),
                f"{result.asset_class.value} ({result.asset_class.paragraph})",
            ),
            (_pick(_LABEL["pd"], lang), f"{result.pd:.4%}"),
            (_pick(_LABEL["lgd"], lang), f"{result.lgd:.2%}"),
        ]
        if result.maturity is not None:
            rows.append((_pick(_LABEL["maturity"], lang), f"{result.maturity:g}"))
        if result.sales_million_eur is not None:
            rows.append((_pick(_LABEL["sales"], lang), f"{result.sales_million_eur:g}"))
        rows.append((_pick(_LABEL["correlation"], lang), f"{result.correlation:.6f}"))
        if result.maturity_adjustment is not None:
            rows.append((_pick(_LABEL["b"], lang), f"{result.maturity_adjustment:.6f}"))
        rows += [
            (_pick(_LABEL["k"], lang), f"{result.capital_k:.6f}"),
            (_pick(_LABEL["scaling"], lang), f"{result.scaling:g}"),
            (_pick(_LABEL["rw"], lang), f"{result.risk_weight:.6f} ({result.risk_weight:.2%})"),
            (_pick(_LABEL["el"], lang), f"{result.expected_loss_rate:.6f}"),
        ]
        if result.ead is not None and result.rwa is not None:
            rows.append((_pick(_LABEL["ead"], lang), f"{result.ead:,}"))
            rows.append((_pick(_LABEL["rwa"], lang), f"{result.rwa:,}"))
        title = "IRB 资本要求" if lang == "zh-CN" else "IRB capital"
        console.print(_table(rows, title))

    guarded(run)


def _product(code_or_path: str) -> LoanProduct:
    from xiaowei.core.errors import NotFound
    from xiaowei.lending.catalogue import load_catalogue, load_product_file

    if code_or_path.endswith((".yaml", ".yml")):
        return load_product_file(Path(code_or_path))
    for product in load_catalogue():
        if product.code == code_or_path:
            return product
    raise NotFound(f"product: no product {code_or_path!r} in the catalogue")


def price_cmd(
    pd: PdOpt,
    lgd: LgdOpt,
    term: Annotated[str, typer.Option("--term", help="Term in months (期限).")],
    funding_rate: Annotated[
        str, typer.Option("--funding-rate", help="Annual funding cost (FTP, 资金成本).")
    ] = "0.025",
    operating_cost: Annotated[
        str, typer.Option("--operating-cost", help="Annual operating cost rate (运营成本).")
    ] = "0.02",
    hurdle: Annotated[
        str, typer.Option("--hurdle", help="Shareholders' hurdle rate on capital.")
    ] = "0.12",
    risk_free: Annotated[
        str, typer.Option("--risk-free", help="Risk-free rate earned on capital.")
    ] = "0.015",
    margin: Annotated[str, typer.Option("--margin", help="Target margin (目标利润).")] = "0.005",
    capital_method: Annotated[
        str,
        typer.Option("--capital-method", help="irb (C = K) or risk-weight (C = RW × ratio)."),
    ] = "irb",
    risk_weight: Annotated[
        str | None,
        typer.Option(
            "--risk-weight", help="A standardised risk weight (e.g. 0.75) for risk-weight."
        ),
    ] = None,
    target_capital_ratio: Annotated[
        str, typer.Option("--target-capital-ratio", help="Capital per unit of RWA.")
    ] = "0.105",
    asset_class: Annotated[
        str, typer.Option("--asset-class", help="IRB function: retail or corporate.")
    ] = "retail",
    sales_million_eur: SalesOpt = None,
    pd_horizon: Annotated[
        str, typer.Option("--pd-horizon", help="Months the PD is measured over (annualised).")
    ] = "12",
    product: Annotated[
        str | None,
        typer.Option("--product", help="Product code of the catalogue (or a YAML file)."),
    ] = None,
    lpr: Annotated[
        str, typer.Option("--lpr", help="One-year LPR; the legal cap is 4 × LPR.")
    ] = "0.0300",
    legal_cap: Annotated[
        str | None, typer.Option("--legal-cap", help="An explicit legal cap instead of 4 × LPR.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Risk-based price of one loan (风险定价): each component, the bound that binds, RAROC."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.decision.pricing import CapitalMethod, PricingPolicy, price_loan

        term_months = _months(term, "term")
        horizon_months = _months(pd_horizon, "pd_horizon")
        try:
            method = CapitalMethod(capital_method)
        except ValueError:
            raise InvalidInput(
                "capital_method", f"{capital_method!r} is not one of irb, risk-weight"
            ) from None
        policy = PricingPolicy(
            funding_rate=_rate_text(funding_rate, "funding_rate"),
            operating_cost_rate=_rate_text(operating_cost, "operating_cost"),
            hurdle_rate=_rate_text(hurdle, "hurdle"),
            risk_free_rate=_rate_text(risk_free, "risk_free"),
            margin=_rate_text(margin, "margin"),
            capital_method=method,
            target_capital_ratio=_rate_text(target_capital_ratio, "target_capital_ratio"),
            risk_weight=None if risk_weight is None else _rate_text(risk_weight, "risk_weight"),
            lpr_1y=_rate_text(lpr, "lpr"),
            legal_cap=None if legal_cap is None else _rate_text(legal_cap, "legal_cap"),
        )
        quote = price_loan(
            pd=_number(pd, "pd"),
            lgd=_number(lgd, "lgd"),
            term_months=term_months,
            policy=policy,
            product=None if product is None else _product(product),
            asset_class=asset_class.strip().lower(),
            sales_million_eur=(
                None
                if sales_million_eur is None
                else _number(sales_million_eur, "sales_million_eur")
            ),
            pd_horizon_months=horizon_months,
        )
        if as_json:
            data = quote.to_dict()
            data["product"] = product
            _print_json(data)
            return
        lang = current_lang()

        def pct(value: Decimal) -> str:
            return f"{value * 100:.4f}%"

        rows = [
            (_pick(_LABEL["funding"], lang), pct(quote.funding)),
            (_pick(_LABEL["operating"], lang), pct(quote.operating_cost)),
            (_pick(_LABEL["expected_loss"], lang), pct(quote.expected_loss)),
            (_pick(_LABEL["cost_of_capital"], lang), pct(quote.cost_of_capital)),
            (_pick(_LABEL["margin"], lang), pct(quote.margin)),
            (_pick(_LABEL["risk_based"], lang), pct(quote.risk_based_rate)),
            (_pick(_LABEL["range"], lang), f"{pct(quote.floor)} – {pct(quote.ceiling)}"),
            (
                _pick(_LABEL["bound"], lang),
                "—" if quote.bound is None else _pick(_BOUND[quote.bound.value], lang),
            ),
            (_pick(_LABEL["rate"], lang), pct(quote.rate)),
            (_pick(_LABEL["capital"], lang), f"{quote.capital} ({quote.capital_method.value})"),
            (_pick(_LABEL["hurdle"], lang), pct(quote.hurdle_rate)),
            (
                _pick(_LABEL["raroc"], lang),
                "n/a (no capital)" if quote.raroc is None else f"{quote.raroc:.2%}",
            ),
        ]
        title = "风险定价" if lang == "zh-CN" else "Risk-based price"
        if product is not None:
            title += f" · {product}"
        console.print(_table(rows, title))

    guarded(run)
