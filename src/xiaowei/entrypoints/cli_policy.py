"""``xiaowei policy …``: credit policy rules as versioned JDM decision graphs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from xiaowei.entrypoints.cli_common import ByOpt, DbOpt, JsonOpt

policy_app = typer.Typer(
    help="Credit policy (授信政策): validate, approve and activate policy rule files.",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="A policy file (JDM JSON with a 'policy' object).")]


def _summary(policy: Any) -> dict[str, Any]:
    return {
        "code": policy.code,
        "version": policy.version,
        "product": policy.product,
        "status": policy.status.value,
        "sha256": policy.sha256,
        "rules": len(policy.rules()),
        "created_by": policy.created_by,
        "approved_by": policy.approved_by,
    }


@policy_app.command("validate")
def policy_validate(file: FileArg, as_json: JsonOpt = False) -> None:
    """Check a policy file (校验): JSON, nodes and edges, known fields, every row with a code
    and both texts, collect hit policy; then evaluate it once. No database."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.decision.policy import load_policy_file

        policy = load_policy_file(file)
        info = {"valid": True, **_summary(policy)}
        if as_json:
            _print_json(info)
            return
        console.print(
            f"valid 有效: {policy.code} v{policy.version} ({policy.product}), "
            f"{info['rules']} rules, sha256 {policy.sha256[:12]}",
            highlight=False,
        )

    guarded(run)


def _show(policy: Any, verb: str, as_json: bool) -> None:
    from xiaowei.entrypoints.cli import _print_json, console

    if as_json:
        _print_json(_summary(policy))
    else:
        console.print(
            f"{verb}: {policy.code} v{policy.version} ({policy.product}) → {policy.status.value}",
            highlight=False,
        )


@policy_app.command("register")
def policy_register(file: FileArg, by: ByOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Store a policy file as a draft version (登记草稿)."""
    from xiaowei.entrypoints.cli import guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.policies import register_policy

        _show(register_policy(engine_for(db), file, by=by), "registered 已登记", as_json)

    guarded(run)


@policy_app.command("approve")
def policy_approve(
    code: str,
    version: int,
    by: ByOpt,
    note: Annotated[str, typer.Option(help="Approval note.")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a draft (审批); the approver must not be its author."""
    from xiaowei.entrypoints.cli import guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.policies import approve_policy

        policy = approve_policy(engine_for(db), code, version, by=by, note=note)
        _show(policy, "approved 已审批", as_json)

    guarded(run)


@policy_app.command("activate")
def policy_activate(
    code: Annotated[
        str, typer.Argument(help="The policy code, or the policy FILE that was registered.")
    ],
    by: ByOpt,
    version: Annotated[
        int | None, typer.Argument(help="The version (not needed with a FILE).")
    ] = None,
    note: Annotated[str, typer.Option(help="Activation note.")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Activate an approved version (生效): CODE VERSION, or the FILE that was registered and
    approved (its content must be the stored version's); the previously active one is
    retired."""
    from xiaowei.entrypoints.cli import guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.core.errors import InvalidInput, InvalidState
        from xiaowei.decision.policy import load_policy_file
        from xiaowei.services.policies import activate_policy, get_policy

        engine = engine_for(db)
        if version is None:
            path = Path(code)
            if not path.is_file():
                raise InvalidInput("version", f"give CODE VERSION, or a policy file ({code})")
            wanted = load_policy_file(path)
            stored = get_policy(engine, wanted.code, wanted.version)
            if stored.sha256 != wanted.sha256:
                raise InvalidState(
                    f"{path.name} is not the content registered as {wanted.key}: register the "
                    "change as a new version"
                )
            policy_code, policy_version = wanted.code, wanted.version
        else:
            policy_code, policy_version = code, version
        policy = activate_policy(engine, policy_code, policy_version, by=by, note=note)
        _show(policy, "activated 已生效", as_json)

    guarded(run)


@policy_app.command("export")
def policy_export(
    out: Annotated[Path, typer.Option("--out", help="Where to write the policy file.")],
    name: Annotated[
        str, typer.Argument(help="A policy shipped with xiaowei (decision/policies/).")
    ] = "sme-op-ko.json",
) -> None:
    """Write a policy file shipped with xiaowei (e.g. sme-op-ko.json), to read, edit in the
    GoRules editor or register."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.adapters.files import write_atomically
        from xiaowei.core.errors import InvalidInput
        from xiaowei.decision.policy import load_policy_file, shipped_policy_path

        source = shipped_policy_path(name)
        if not source.is_file():
            raise InvalidInput("name", f"no shipped policy {name!r}")
        policy = load_policy_file(source)
        content = source.read_bytes()
        write_atomically(out, lambda tmp: tmp.write_bytes(content))
        console.print(
            f"wrote {policy.code} v{policy.version} ({len(policy.rules())} rules) to {out}",
            highlight=False,
        )

    guarded(run)


@policy_app.command("list")
def policy_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the stored policy versions and their status."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.policies import list_policies

        policies = list_policies(engine_for(db))
        if as_json:
            _print_json([_summary(p) for p in policies])
            return
        table = Table()
        for column in ("code 代码", "version 版本", "product 产品", "status 状态", "sha256"):
            table.add_column(column)
        table.add_column("created/approved 登记/审批")
        for p in policies:
            table.add_row(
                p.code,
                str(p.version),
                p.product,
                p.status.value,
                p.sha256[:12],
                f"{p.created_by} / {p.approved_by or '—'}",
            )
        console.print(table)

    guarded(run)


@policy_app.command("check")
def policy_check(
    file: FileArg,
    features: Annotated[
        Path, typer.Option("--features", help="A feature table (.parquet or .csv).")
    ],
    business: Annotated[
        int | None, typer.Option("--business", help="Only this business_id.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a policy file on feature-table rows and print each outcome and its hits."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        import polars as pl

        from xiaowei.core.errors import InvalidInput
        from xiaowei.decision.policy import PolicyEngine, load_policy_file

        policy = load_policy_file(file)
        if not features.is_file():
            raise InvalidInput("features", f"{features} is not a file")
        if features.suffix == ".parquet":
            frame = pl.read_parquet(features)
        elif features.suffix == ".csv":
            frame = pl.read_csv(features, infer_schema_length=10_000)
        else:
            raise InvalidInput("features", "a .parquet or .csv feature table is expected")
        if business is not None:
            if "business_id" not in frame.columns:
                raise InvalidInput("features", "the table has no business_id column")
            frame = frame.filter(pl.col("business_id") == business)
            if frame.height == 0:
                raise InvalidInput("business", f"no row with business_id {business}")
        engine = PolicyEngine()
        rows = []
        for row in frame.iter_rows(named=True):
            result = engine.evaluate(policy, row)
            rows.append({"business_id": row.get("business_id"), **result.to_json()})
        counts = {o: sum(r["outcome"] == o for r in rows) for o in ("pass", "refer", "decline")}
        if as_json:
            _print_json({"policy": _summary(policy), "counts": counts, "results": rows})
            return
        for r in rows:
            console.print(f"[bold]{r['business_id']}[/] {r['outcome']}", highlight=False)
            for hit in r["hits"]:
                values = ", ".join(f"{k}={v}" for k, v in hit["values"].items())
                console.print(
                    f"  {hit['severity']:<7} {hit['code']}: {hit['reason_zh']} / "
                    f"{hit['reason_en']} ({values})",
                    highlight=False,
                    soft_wrap=True,
                )
        total = len(rows) or 1
        console.print(
            f"{policy.code} v{policy.version} on {len(rows)} rows: "
            + ", ".join(f"{k} {v} ({v / total:.1%})" for k, v in counts.items()),
            highlight=False,
        )

    guarded(run)
