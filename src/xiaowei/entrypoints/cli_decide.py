"""``xiaowei decide`` and ``xiaowei decision …``: the automated decision, stored and replayable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from xiaowei.core.i18n import current_lang
from xiaowei.entrypoints.cli_common import AtOpt, DbOpt, JsonOpt, parse_at

decision_app = typer.Typer(
    help="Automated decisions (自动审批决策记录): show, list and replay stored decisions.",
    no_args_is_help=True,
)


_ACTION_ZH = {"approve": "通过", "refer": "转人工", "decline": "拒绝"}
_METHOD_ZH = {
    "equal-installment": "等额本息",
    "equal-principal": "等额本金",
    "interest-only": "先息后本",
    "bullet": "利随本清",
    "balloon": "气球贷",
    "seasonal": "季节性还款",
}


def _money(value: Any) -> str:
    from decimal import Decimal

    return "-" if value is None else f"{Decimal(str(value)):,.2f}"


def _pct(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{float(value):.{digits}%}"


def _load_application(source: Path, business: int | None, product: str, blacklist: bool) -> Any:
    import json

    import polars as pl

    from xiaowei.core.errors import InvalidInput
    from xiaowei.decision.automated import application_from_row, parse_application

    if not source.is_file():
        raise InvalidInput("application", f"{source} is not a file")
    if source.suffix in (".parquet", ".csv"):
        if business is None:
            raise InvalidInput("business", "a feature table needs --business N")
        frame = (
            pl.read_parquet(source)
            if source.suffix == ".parquet"
            else pl.read_csv(source, infer_schema_length=10_000, try_parse_dates=True)
        )
        if "business_id" not in frame.columns:
            raise InvalidInput("application", "the table has no business_id column")
        rows = frame.filter(pl.col("business_id") == business)
        if rows.height == 0:
            raise InvalidInput("business", f"no row with business_id {business}")
        fields = {"blacklist_hit": True} if blacklist else None
        return application_from_row(rows.row(0, named=True), product=product, fields=fields)
    if business is not None:
        raise InvalidInput("business", "--business reads a feature table, not a JSON file")
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("application", f"{source} is not JSON: {exc}") from None
    return parse_application(document, source=source.name)


def _shipped_or_file(path: Path, shipped: Any) -> Path:
    """A file, or, when no such file exists, the strategy or routing table of that name shipped
    with xiaowei (e.g. sme-op-growth.json)."""
    if path.exists():
        return path
    for name in (path.name, f"{path.name}.json"):
        candidate: Path = shipped(name)
        if candidate.is_file():
            return candidate
    return path


def _offer_lines(result: dict[str, Any]) -> list[tuple[str, str]]:
    offer = result.get("offer")
    limit = result["limit"]
    requested = result["requested"]
    lines = [
        (
            "申请 requested",
            f"{_money(requested['amount'])} CNY, {requested['term_months']} months",
        ),
        ("额度 limit", f"{_money(limit['limit'])} ({limit['binding'] or 'not sized'})"),
    ]
    if offer is None:
        return lines
    price = offer["price"]
    schedule = offer["schedule"]
    method = offer["method"]
    counter = " counter-offer 降额" if offer["counter_offer"] else ""
    lines += [
        ("批复金额 amount", f"{_money(offer['amount'])}{counter}"),
        ("期限 term", f"{offer['term_months']} months ({offer['term_reason']})"),
        ("还款方式 method", f"{method} {_METHOD_ZH.get(method, '')}"),
        ("", offer["method_reason"]),
        (
            "利率 rate",
            f"{_pct(price['rate'], 4)}"
            + (f" (bound: {price['bound']})" if price["bound"] else " (risk-based)"),
        ),
        ("RAROC", _pct(price["raroc"])),
        ("首期 first payment", f"{schedule['first_due']} {_money(schedule['first_payment'])}"),
        (
            "总利息 total interest",
            f"{_money(schedule['total_interest'])} over {schedule['installments']} installments",
        ),
    ]
    return lines


def _print_record(result: dict[str, Any], header: str) -> None:
    from rich.table import Table

    from xiaowei.entrypoints.cli import console

    zh = current_lang() == "zh-CN"
    action = result["action"]
    versions = result["versions"]
    model = versions["model"]
    console.print(
        f"[bold]{header}[/] · {result['application_id']} · [bold]{action} {_ACTION_ZH[action]}[/]",
        highlight=False,
    )
    console.print(
        f"strategy {versions['strategy']['code']} v{versions['strategy']['version']} · "
        f"policy {versions['policy']['code']} v{versions['policy']['version']} · "
        f"model {model.get('name')} v{model.get('version')} · "
        f"product {versions['product']['code']} v{versions['product']['version']}",
        highlight=False,
    )
    m = result["model"]
    band = result["band"]
    console.print(
        f"score {m['score']} · PD {_pct(m['pd'])} · grade {m['grade']} · "
        f"band {band['grade']} ({band['action']}) · policy {result['policy']['outcome']}",
        highlight=False,
    )
    table = Table(title="offer 授信方案", show_header=False)
    table.add_column("item")
    table.add_column("value")
    for item, value in _offer_lines(result):
        table.add_row(item, value)
    console.print(table)
    if result["reasons"]:
        reasons = Table(title="reasons 决策原因")
        reasons.add_column("source")
        reasons.add_column("code")
        reasons.add_column("reason")
        for r in result["reasons"]:
            reasons.add_row(r["source"], r["code"], r["reason_zh"] if zh else r["reason_en"])
        console.print(reasons)
    if m["reasons"]:
        codes = Table(title="score reasons 评分原因")
        codes.add_column("points lost", justify="right")
        codes.add_column("reason")
        for r in m["reasons"]:
            codes.add_row(f"{r['points_lost']:g}", r["text_zh"] if zh else r["text_en"])
        console.print(codes)


def decide_cmd(
    application: Annotated[
        Path,
        typer.Argument(
            help="An application file (xiaowei.application/1 JSON) or a feature table "
            "(.parquet/.csv, with --business)."
        ),
    ],
    model: Annotated[Path, typer.Option("--model", help="A model artefact folder.")],
    strategy: Annotated[
        Path | None,
        typer.Option(
            "--strategy",
            help="Strategy file or shipped name (default: sme-op-standard.json; also "
            "sme-op-growth.json).",
        ),
    ] = None,
    business: Annotated[
        int | None, typer.Option("--business", help="The business_id row of a feature table.")
    ] = None,
    product: Annotated[
        str, typer.Option("--product", help="Product code for a feature-table row.")
    ] = "SME-OP",
    blacklist: Annotated[
        bool, typer.Option("--blacklist-hit", help="Intake found the applicant on a blacklist.")
    ] = False,
    challenger: Annotated[
        Path | None,
        typer.Option(
            "--challenger", help="A challenger strategy file or shipped name (sme-op-growth.json)."
        ),
    ] = None,
    share: Annotated[
        float, typer.Option("--challenger-share", help="Share of traffic for the challenger.")
    ] = 0.2,
    salt: Annotated[
        str | None, typer.Option("--salt", help="Salt of the traffic split (default: its code).")
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="A policy file instead of the active one (--dry-run only)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide without storing anything.")
    ] = False,
    save_application: Annotated[
        Path | None,
        typer.Option("--save-application", help="Also write the application document (JSON)."),
    ] = None,
    route: Annotated[
        bool,
        typer.Option(
            "--route",
            help="Route the decision (融合路由) with the default table, opening the "
            "factory case when the route goes through the credit factory.",
        ),
    ] = False,
    routing: Annotated[
        Path | None,
        typer.Option(
            "--routing",
            help="A routing table file or shipped name (fusion-default.json); implies --route.",
        ),
    ] = None,
    borrower: Annotated[
        str | None, typer.Option("--borrower", help="The borrower's name for the factory case.")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who decides (recorded).")] = "auto",
    at: AtOpt = None,
    timing: Annotated[bool, typer.Option("--timing", help="Print the time of each stage.")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide one application automatically (大数据风控自动审批): policy rules, model, strategy,
    limit, term and method, risk-based price and schedule preview; stored with the versions it
    used (replay it with `xiaowei decision replay ID`)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        import json

        from xiaowei.adapters.files import write_atomically
        from xiaowei.bootstrap import engine_for
        from xiaowei.decision.policy import load_policy_file
        from xiaowei.decision.strategy import load_strategy_file, shipped_strategy_path
        from xiaowei.services.decisions import decide_application

        app = _load_application(application, business, product, blacklist)
        champion = load_strategy_file(
            shipped_strategy_path()
            if strategy is None
            else _shipped_or_file(strategy, shipped_strategy_path)
        )
        chal = (
            None
            if challenger is None
            else load_strategy_file(_shipped_or_file(challenger, shipped_strategy_path))
        )
        explicit = None if policy is None else load_policy_file(policy)
        engine = None if dry_run and explicit is not None else engine_for(db)
        if route or routing is not None:
            _decide_and_route(app, champion, engine, as_json)
            return
        result = decide_application(
            engine,
            app,
            strategy=champion,
            model_path=model,
            challenger=chal,
            challenger_share=share,
            salt=salt,
            policy=explicit,
            by=by,
            at=parse_at(at),
            store=not dry_run,
        )
        if save_application is not None:
            text = json.dumps(app.to_json(), ensure_ascii=False, indent=1) + "\n"
            write_atomically(save_application, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        if as_json:
            _print_json(
                {
                    "decision_id": result.decision_id,
                    "repeated": result.repeated,
                    "experiment": result.experiment,
                    "arm": result.arm,
                    "record": result.acted.to_json(),
                    "shadows": {n: r.to_json() for n, r in result.shadows},
                    "ids": result.ids,
                }
            )
            return
        if dry_run:
            header = "dry run 试算 (not stored)"
        elif result.repeated:
            header = f"decision #{result.decision_id} (already decided with these versions)"
        else:
            header = f"decision #{result.decision_id}"
        _print_record(result.acted.to_json(), header)
        if result.experiment is not None:
            console.print(
                f"champion/challenger {result.experiment}: arm [bold]{result.arm}[/] acted on",
                highlight=False,
            )
            for name, record in result.shadows:
                offer = record.result.get("offer")
                terms = (
                    ""
                    if offer is None
                    else f" {_money(offer['amount'])} at {_pct(offer['rate'], 4)}"
                )
                console.print(
                    f"  shadow {name} ({record.versions['strategy']['code']}): "
                    f"{record.action.value}{terms} (recorded, not acted on)",
                    highlight=False,
                )
        if timing:
            stages = ", ".join(f"{k} {v:.0f} µs" for k, v in result.acted.timing_us.items())
            console.print(f"timing: {stages}", highlight=False)

    def _decide_and_route(app: Any, champion: Any, engine: Any, as_json: bool) -> None:
        from xiaowei.core.errors import InvalidInput
        from xiaowei.decision.fusion import load_routing_file, shipped_routing_path
        from xiaowei.services.fusion import route_application

        if dry_run or challenger is not None or policy is not None:
            raise InvalidInput(
                "route", "routing stores the decision: no --dry-run, --policy or --challenger"
            )
        table = load_routing_file(
            shipped_routing_path()
            if routing is None
            else _shipped_or_file(routing, shipped_routing_path)
        )
        routed = route_application(
            engine,
            app,
            strategy=champion,
            model_path=model,
            routing=table,
            borrower=borrower,
            by=by,
            at=parse_at(at),
        )
        decision = routed.decision
        if as_json:
            _print_json(
                {
                    "decision_id": decision.decision_id,
                    "repeated": routed.repeated,
                    "record": decision.acted.to_json(),
                    "route": routed.choice,
                    "factory_case_id": routed.factory_case_id,
                    "committee_case_id": routed.committee_case_id,
                }
            )
            return
        again = " (already decided with these versions)" if decision.repeated else ""
        _print_record(decision.acted.to_json(), f"decision #{decision.decision_id}{again}")
        _print_route(routed.choice, routed.factory_case_id, routed.committee_case_id)

    guarded(run)


def _print_route(
    choice: dict[str, Any], factory_case: int | None, committee_case: int | None
) -> None:
    from xiaowei.entrypoints.cli import console

    zh = current_lang() == "zh-CN"
    table = choice["table"]
    console.print(
        f"route 审批路径: [bold]{choice['route']}[/] ({' → '.join(choice['stages'])}) by "
        f"{table['code']} v{table['version']} row {choice['rule']}: "
        f"{choice['reason_zh'] if zh else choice['reason_en']}",
        highlight=False,
    )
    if factory_case is not None:
        console.print(f"  factory case #{factory_case} opened at intake 受理", highlight=False)
    if committee_case is not None:
        console.print(f"  committee case id {committee_case}", highlight=False)


@decision_app.command("show")
def decision_show(
    decision_id: Annotated[int, typer.Argument(help="The decision number.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A stored decision with its offer and reasons."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        import json

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.decisions import get_decision, replays

        engine = engine_for(db)
        row = get_decision(engine, decision_id)
        record = json.loads(row["record"])
        if as_json:
            _print_json(
                {
                    "decision_id": decision_id,
                    "decided_at": row["decided_at"].isoformat(),
                    "decided_by": row["decided_by"],
                    "acted": row["acted"],
                    "arm": row["arm"],
                    "record": record,
                }
            )
            return
        acted = "acted on" if row["acted"] else f"shadow ({row['arm']}), not acted on"
        _print_record(record, f"decision #{decision_id} ({acted})")
        from xiaowei.core.errors import NotFound
        from xiaowei.services.fusion import route_of

        try:
            routed = route_of(engine, decision_id)
        except NotFound:
            routed = None
        if routed is not None:
            _print_route(
                json.loads(routed["choice"]),
                routed["factory_case_id"],
                routed["committee_case_id"],
            )
        for r in replays(engine, decision_id):
            verdict = "identical 一致" if r["matched"] else f"DIFFERENT: {r['note']}"
            console.print(f"replay #{r['id']} by {r['replayed_by']}: {verdict}", highlight=False)

    guarded(run)


@decision_app.command("list")
def decision_list(
    application: Annotated[
        str | None, typer.Option("--application", help="Only this application id.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored decisions, newest first."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.decisions import list_decisions

        rows = list_decisions(engine_for(db), application, limit)
        keys = ("id", "application_id", "action", "acted", "arm", "strategy_code", "score")
        if as_json:
            _print_json(
                [
                    {
                        **{k: r[k] for k in keys},
                        "pd": r["pd"],
                        "amount_fen": r["amount_fen"],
                        "rate_ppm": r["rate_ppm"],
                    }
                    for r in rows
                ]
            )
            return
        table = Table(title="decisions 审批决策")
        for name in ("#", "application", "action", "arm", "strategy", "score", "PD", "amount"):
            table.add_column(name, justify="right" if name in ("#", "score", "PD") else "left")
        table.columns[-1].justify = "right"
        for r in rows:
            arm = "-" if r["arm"] is None else r["arm"] + ("" if r["acted"] else " (shadow)")
            amount = None if r["amount_fen"] is None else r["amount_fen"] / 100
            table.add_row(
                str(r["id"]),
                r["application_id"],
                r["action"],
                arm,
                f"{r['strategy_code']} v{r['strategy_version']}",
                str(r["score"]),
                _pct(r["pd"]),
                _money(amount),
            )
        console.print(table)

    guarded(run)


@decision_app.command("replay")
def decision_replay(
    decision_id: Annotated[int, typer.Argument(help="The decision number.")],
    by: Annotated[str, typer.Option("--by", help="Who replays (recorded).")],
    model: Annotated[
        Path | None,
        typer.Option("--model", help="The model folder, when it moved since the decision."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide a stored application again with the versions its record names and compare the
    result bit for bit (重放核验); exits 1 when it differs."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.decisions import replay_decision

        result = replay_decision(engine_for(db), decision_id, model_path=model, by=by)
        if as_json:
            _print_json(
                {
                    "decision_id": result.decision_id,
                    "matched": result.matched,
                    "stored_sha256": result.stored_sha256,
                    "replayed_sha256": result.replayed_sha256,
                    "differences": list(result.differences),
                    "replay_id": result.replay_id,
                }
            )
        elif result.matched:
            console.print(
                f"decision #{decision_id} replayed: identical 一致 "
                f"(sha256 {result.replayed_sha256[:16]}…)",
                highlight=False,
            )
        else:
            console.print(
                f"[red]decision #{decision_id} replayed: DIFFERENT in "
                f"{', '.join(result.differences)}[/]",
                highlight=False,
            )
        if not result.matched:
            raise typer.Exit(1)

    guarded(run)


@decision_app.command("escalate")
def decision_escalate(
    decision_id: Annotated[int, typer.Argument(help="The decision number.")],
    by: Annotated[str, typer.Option("--by", help="Who puts it before the committee.")],
    memo: Annotated[
        Path | None, typer.Option("--memo", help="The credit memo (HTML) for the committee.")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
) -> None:
    """Put a factory-committee application before the credit committee (提交上会) once the
    credit factory has verified and analysed it."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.fusion import escalate_to_committee

        case_id = escalate_to_committee(
            engine_for(db), decision_id, by=by, memo_path=memo, at=parse_at(at)
        )
        console.print(
            f"decision #{decision_id} is before the credit committee: case id {case_id}",
            highlight=False,
        )

    guarded(run)


def _cell(value: Any) -> str:
    """A JDM cell as a reader sees it: a quoted literal without its quotes; empty is "any"."""
    import json

    text = str(value if value is not None else "").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return str(json.loads(text))
        except json.JSONDecodeError:
            return text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return text


@decision_app.command("routing")
def decision_routing(
    table_file: Annotated[
        Path | None,
        typer.Argument(
            help="A routing table file or shipped name (default: fusion-default.json).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the table's file here, to edit and version."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The fusion routing table (融合审批路由表): its version, sha256 and rows, first hit first.
    No database."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.adapters.files import write_atomically
        from xiaowei.decision.fusion import load_routing_file, shipped_routing_path

        source = (
            shipped_routing_path()
            if table_file is None
            else _shipped_or_file(table_file, shipped_routing_path)
        )
        routing = load_routing_file(source)
        node = next(n for n in routing.graph["nodes"] if n.get("type") == "decisionTableNode")
        content = node["content"]
        inputs = [(i["id"], i["field"]) for i in content["inputs"]]
        outputs = {o["field"]: o["id"] for o in content["outputs"]}
        rows: list[dict[str, Any]] = [
            {
                "row": i,
                "rule": _cell(rule.get(outputs["rule"])),
                "when": {field: _cell(rule.get(cid)) for cid, field in inputs},
                "route": _cell(rule.get(outputs["route"])),
                "reason_zh": _cell(rule.get(outputs["reason_zh"])),
                "reason_en": _cell(rule.get(outputs["reason_en"])),
            }
            for i, rule in enumerate(content.get("rules", []), start=1)
        ]
        if out is not None:
            content_bytes = source.read_bytes()
            write_atomically(out, lambda tmp: tmp.write_bytes(content_bytes))
        if as_json:
            _print_json(
                {
                    "code": routing.code,
                    "version": routing.version,
                    "name_zh": routing.name_zh,
                    "name_en": routing.name_en,
                    "sha256": routing.sha256,
                    "hit_policy": "first",
                    "rows": rows,
                    "written": None if out is None else str(out),
                }
            )
            return
        zh = current_lang() == "zh-CN"
        console.print(
            f"[bold]{routing.code} v{routing.version}[/] "
            f"{routing.name_zh if zh else routing.name_en} · sha256 {routing.sha256[:16]}",
            highlight=False,
        )
        table = Table(
            title="rows 路由规则 (first hit 首条命中: the first row that matches decides)"
        )
        table.add_column("#", justify="right")
        table.add_column("rule 规则")
        for _, field in inputs:
            table.add_column(field)
        table.add_column("route 审批路径")
        for r in rows:
            table.add_row(
                str(r["row"]),
                r["rule"],
                *[r["when"][field] or "any" for _, field in inputs],
                r["route"],
            )
        console.print(table)
        for r in rows:
            console.print(
                f"{r['row']} {r['rule']}: {r['reason_zh'] if zh else r['reason_en']}",
                highlight=False,
            )
        if out is not None:
            console.print(f"wrote {routing.code} v{routing.version} to {out}", highlight=False)

    guarded(run)
