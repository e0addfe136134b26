"""``xiaowei capital …`` and ``xiaowei price``: Basel IRB capital and risk-based pricing.

``capital irb`` prices one exposure; ``capital portfolio`` a table of them (IRB against the
standardised weights, by grade, with a chart from :mod:`xiaowei.reports.capital_charts`).

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
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang, current_lang
from xiaowei.entrypoints.cli_common import JsonOpt, key_value_table
from xiaowei.reports.page import pick as _pick

if TYPE_CHECKING:
    import polars as pl

    from xiaowei.decision.capital import PortfolioCapital
    from xiaowei.lending.product import LoanProduct

capital_app = typer.Typer(
    help="Regulatory capital (监管资本): the Basel IRB risk-weight functions, one exposure or a "
    "portfolio.",
    no_args_is_help=True,
)

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
    "contract": ("the rate given (--rate)", "指定利率（--rate）"),
}


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
    return key_value_table(rows, title=title, label_style="bold", value_justify="right")


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
    contract_rate: Annotated[
        str | None,
        typer.Option(
            "--rate",
            help="A rate already chosen (e.g. one flat rate for all): its RAROC beside the "
            "risk-based rate.",
        ),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Also draw the price's components and RAROC across PDs (PNG), this loan marked.",
        ),
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
        chosen_product = None if product is None else _product(product)
        sales = (
            None if sales_million_eur is None else _number(sales_million_eur, "sales_million_eur")
        )

        def price_at(
            pd_value: float, horizon: int = horizon_months, fixed: Decimal | None = None
        ) -> Any:
            return price_loan(
                pd=pd_value,
                lgd=_number(lgd, "lgd"),
                term_months=term_months,
                policy=policy,
                product=chosen_product,
                asset_class=asset_class.strip().lower(),
                sales_million_eur=sales,
                pd_horizon_months=horizon,
                contract_rate=fixed,
            )

        fixed = None if contract_rate is None else _rate_text(contract_rate, "rate")
        quote = price_at(_number(pd, "pd"), fixed=fixed)
        if chart is not None:
            from xiaowei.reports.pricing_charts import pricing_chart

            pricing_chart(quote, lambda p: price_at(p, 12), chart, lang=current_lang())
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
                _pick(_BOUND["contract"], lang)
                if fixed is not None
                else "—"
                if quote.bound is None
                else _pick(_BOUND[quote.bound.value], lang),
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


# --------------------------------------------------------------------------- portfolio
_PORTFOLIO_LABEL: dict[str, tuple[str, str]] = {
    "title": (
        "Portfolio capital: {n} exposures, capital at {ratio} of RWA",
        "组合资本：{n} 笔风险暴露，资本 = RWA × {ratio}",
    ),
    "irb": ("IRB", "内部评级法"),
    "std": ("Standardised", "权重法"),
    "std_flat": ("Standardised ({weight})", "权重法（{weight}）"),
    "ead": ("EAD", "违约风险暴露"),
    "pd_mean": ("Mean PD (EAD-weighted)", "平均PD（按暴露加权）"),
    "lgd_mean": ("Mean LGD", "平均LGD"),
    "el": ("Expected loss (EL)", "预期损失EL"),
    "el_rate": ("EL ÷ EAD", "EL ÷ 暴露"),
    "rwa": ("RWA", "风险加权资产"),
    "density": ("RWA ÷ EAD", "RWA ÷ 暴露"),
    "capital": ("Capital at {ratio}", "资本（{ratio}）"),
    "capital_rate": ("Capital ÷ EAD", "资本 ÷ 暴露"),
    "by_title": ("By {by}", "按{by}"),
    "rows": ("Rows", "笔数"),
    "rwa_irb": ("RWA IRB", "RWA 内评"),
    "rwa_std": ("RWA std.", "RWA 权重法"),
    "ratio": ("IRB/std", "内评/权重"),
    "grade": ("Grade", "评级"),
}


def _ratio_pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _share(value: float | None, spec: str = ".2%") -> str:
    return "—" if value is None else format(value, spec)


@capital_app.command("portfolio")
def portfolio_cmd(
    data: Annotated[
        Path, typer.Argument(help="Exposures, .csv or .parquet (e.g. what score apply writes).")
    ],
    ead_col: Annotated[
        str,
        typer.Option("--ead-col", help="Exposure at default: integer fen, or Decimal CNY."),
    ],
    pd_col: Annotated[str, typer.Option("--pd-col", help="Column of PDs (违约概率).")] = "pd",
    lgd: Annotated[
        str | None, typer.Option("--lgd", help="One LGD for every row, e.g. 0.45.")
    ] = None,
    lgd_col: Annotated[str | None, typer.Option("--lgd-col", help="Column of LGDs.")] = None,
    maturity: Annotated[
        str, typer.Option("--maturity", help="Effective maturity, years (corporate/sme only).")
    ] = "1.0",
    maturity_col: Annotated[
        str | None, typer.Option("--maturity-col", help="Column of maturities instead.")
    ] = None,
    asset_class: Annotated[
        str,
        typer.Option(
            "--asset-class",
            help="retail (§330; 75% up to CNY 10m), sme (§273; 85%) or corporate (§272; 100%).",
        ),
    ] = "retail",
    asset_class_col: Annotated[
        str | None, typer.Option("--asset-class-col", help="Column of asset classes instead.")
    ] = None,
    sales_col: Annotated[
        str | None,
        typer.Option("--sales-col", help="Annual sales in fen (sme: the §273 adjustment)."),
    ] = None,
    cny_per_eur: Annotated[
        str | None, typer.Option("--cny-per-eur", help="CNY per EUR, to convert --sales-col.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Segment column (default: grade, when the file has one)."),
    ] = None,
    standardised_weight: Annotated[
        str | None,
        typer.Option(
            "--standardised-weight",
            help="One standardised weight for every performing row (e.g. 0.75).",
        ),
    ] = None,
    provision_col: Annotated[
        str | None,
        typer.Option("--provision-col", help="Provisions ÷ exposure (defaulted rows: 100/150%)."),
    ] = None,
    capital_ratio: Annotated[
        str,
        typer.Option("--capital-ratio", help="Capital per unit of RWA: 0.08, or 0.105."),
    ] = "0.105",
    scaling: Annotated[
        str, typer.Option("--scaling", help="IRB scaling: 1.0 (Basel III) or 1.06.")
    ] = "1.0",
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Draw capital against PD and RWA by segment (PNG)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Capital of a portfolio (组合资本): IRB against the standardised approach, by grade."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.decision.capital import portfolio_capital

        frame = _read_exposures(data)
        segment = by if by is not None else ("grade" if "grade" in frame.columns else None)
        ratio = _rate_text(capital_ratio, "capital_ratio")
        maturity_value = _number(maturity, "maturity")
        result = portfolio_capital(
            frame,
            pd_col=pd_col,
            lgd=None if lgd is None else _number(lgd, "lgd"),
            lgd_col=lgd_col,
            ead_col=ead_col,
            maturity=maturity_value,
            maturity_col=maturity_col,
            asset_class=asset_class,
            asset_class_col=asset_class_col,
            sales_col=sales_col,
            cny_per_eur=None if cny_per_eur is None else _rate_text(cny_per_eur, "cny_per_eur"),
            by=segment,
            standardised_weight=(
                None
                if standardised_weight is None
                else _rate_text(standardised_weight, "standardised_weight")
            ),
            provision_col=provision_col,
            capital_ratio=ratio,
            scaling=_number(scaling, "scaling"),
        )
        lang = current_lang()
        if chart is not None:
            from xiaowei.reports.capital_charts import capital_chart

            capital_chart(result, chart, lang=lang, maturity=maturity_value)
        if as_json:
            data_out = result.to_dict()
            data_out["file"] = str(data)
            _print_json(data_out)
            return
        title = _pick(_PORTFOLIO_LABEL["title"], lang).format(
            n=f"{result.total.exposures:,}", ratio=_ratio_pct(result.capital_ratio)
        )
        console.print(title, highlight=False)
        console.print(_portfolio_totals(result, lang))
        if result.segments:
            console.print(_portfolio_segments(result, lang))
        if chart is not None:
            console.print(f"wrote {chart}", highlight=False)

    guarded(run)


def _read_exposures(path: Path) -> pl.DataFrame:
    """A CSV or Parquet file of exposures; any other file, or an unreadable one, is one clear
    error naming it.  (The same rules as ``services.scoring.read_table``, without importing
    the model libraries that module needs.)"""
    import polars as pl

    if not path.is_file():
        raise InvalidInput(str(path), "no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix == ".csv":
            frame = pl.read_csv(path, infer_schema_length=None)
        else:
            raise InvalidInput(str(path), "read .csv or .parquet files")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"cannot be read: {exc}") from exc
    if frame.height == 0:
        raise InvalidInput(str(path), "has no rows")
    return frame


def _portfolio_totals(result: PortfolioCapital, lang: Lang) -> Table:
    def label(key: str) -> str:
        return _pick(_PORTFOLIO_LABEL[key], lang)

    total = result.total
    ratio = _ratio_pct(result.capital_ratio)
    table = Table()
    table.add_column("")
    table.add_column(label("irb"), justify="right")
    std = (
        label("std")
        if result.flat_weight is None
        else label("std_flat").format(weight=_ratio_pct(result.flat_weight))
    )
    table.add_column(std, justify="right")
    capital_rate_irb = None if total.ead == 0 else float(total.capital_irb / total.ead)
    capital_rate_std = None if total.ead == 0 else float(total.capital_standardised / total.ead)
    table.add_row(label("ead"), f"{total.ead:,}", f"{total.ead:,}")
    table.add_row(label("pd_mean"), f"{total.pd_mean:.2%}", "—")
    table.add_row(label("lgd_mean"), f"{total.lgd_mean:.2%}", "—")
    table.add_row(label("el"), f"{total.expected_loss:,}", "—")
    table.add_row(label("el_rate"), _share(total.el_rate), "—")
    table.add_row(label("rwa"), f"{total.rwa_irb:,}", f"{total.rwa_standardised:,}")
    table.add_row(label("density"), _share(total.density_irb), _share(total.density_standardised))
    table.add_row(
        label("capital").format(ratio=ratio),
        f"{total.capital_irb:,}",
        f"{total.capital_standardised:,}",
    )
    table.add_row(label("capital_rate"), _share(capital_rate_irb), _share(capital_rate_std))
    return table


def _portfolio_segments(result: PortfolioCapital, lang: Lang) -> Table:
    def label(key: str) -> str:
        return _pick(_PORTFOLIO_LABEL[key], lang)

    by = result.by or ""
    heading = label("grade") if by == "grade" else by
    table = Table(title=label("by_title").format(by=heading), title_justify="left")
    table.add_column(heading)
    for key in ("rows", "ead", "pd_mean", "el_rate", "rwa_irb", "rwa_std", "ratio"):
        name = {"pd_mean": "PD", "el_rate": "EL %"}.get(key) or label(key)
        if key == "ead":
            name = "EAD" if lang == "en" else "暴露"
        # a narrow terminal folds an amount onto two lines rather than cutting it off
        table.add_column(name, justify="right", overflow="fold")
    for s in result.segments:
        ratio = None if s.rwa_standardised == 0 else float(s.rwa_irb / s.rwa_standardised)
        table.add_row(
            s.segment,
            f"{s.exposures:,}",
            f"{s.ead:,}",
            f"{s.pd_mean:.2%}",
            _share(s.el_rate),
            f"{s.rwa_irb:,}",
            f"{s.rwa_standardised:,}",
            _share(ratio, ".1%"),
        )
    return table
