"""``xiaowei committee …``: the credit committee (信贷审批委员会), the resolution form (决议表)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from xiaowei.entrypoints.cli_common import (
    ApplicationArg,
    ByOpt,
    DbOpt,
    JsonOpt,
    TermOpt,
    document_lang,
    yes_no,
)

committee_app = typer.Typer(
    help="The credit committee (信贷审批委员会): members, cases, votes and the resolution form.",
    no_args_is_help=True,
)
member_app = typer.Typer(
    help="Committee members (委员): add, deactivate, list.", no_args_is_help=True
)
committee_app.add_typer(member_app, name="member")

CaseArg = Annotated[str, typer.Argument(help="The case: its number (CC-0001) or id (1).")]
MemberOpt = Annotated[str, typer.Option("--member", help="The committee member.")]


def _case_id(value: str) -> int:
    from xiaowei.core.errors import InvalidInput

    text = value.strip().upper().removeprefix("CC-")
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput("case", f"{value!r} is not a case number (CC-0001) or id")
    return int(text)


def _case_json(case: Any, tally: dict[str, Any] | None = None) -> dict[str, Any]:
    p = case.proposal
    return {
        "id": case.id,
        "number": case.number,
        "application_id": case.application_id,
        "borrower": case.borrower,
        "amount": str(p.amount),
        "term_months": p.term_months,
        "annual_rate": str(p.annual_rate),
        "method": p.method,
        "guarantee": p.guarantee,
        "investigated_by": case.investigated_by,
        "referred_by": case.referred_by,
        "decision_id": case.decision_id,
        "memo_path": case.memo_path,
        "memo_sha256": case.memo_sha256,
        "status": case.status.value,
        "meeting_date": case.meeting_date.isoformat() if case.meeting_date else None,
        "rule": case.rule.to_json() if case.rule else None,
        "attendance": [
            {"member": s.member, "role": s.role.value, "present": s.present} for s in case.seats
        ],
        "recusals": [
            {"member": r.member, "kind": r.kind.value, "reason": r.reason} for r in case.recusals
        ],
        "votes": [
            {
                "member": v.member,
                "vote": v.choice.value,
                "opinion": v.opinion,
                "conditions": v.conditions,
            }
            for v in case.votes
        ],
        "resolution": case.resolution.value if case.resolution else None,
        "conditions": list(case.conditions),
        "tally": tally,
        "decided_by": case.decided_by,
    }


def _line(case: Any) -> str:
    p = case.proposal
    return (
        f"{case.number} · application {case.application_id} · {case.borrower} · "
        f"{p.amount:,.2f} CNY, {p.term_months} months at {p.annual_rate * 100:.4f}%, {p.method}"
    )


# --------------------------------------------------------------------------- members
@member_app.command("add")
def member_add(
    name: Annotated[str, typer.Argument(help="The member's name (how votes are signed).")],
    by: ByOpt,
    role: Annotated[
        str, typer.Option("--role", help="chair (主任委员), member (委员) or secretary (秘书).")
    ] = "member",
    db: DbOpt = None,
) -> None:
    """Put a person on the committee (增补委员)."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import add_member

        member = add_member(engine_for(db), name, role, by=by)
        console.print(
            f"added 已增补: {member.name} ({member.role.value} {member.role.name_zh})",
            highlight=False,
        )

    guarded(run)


@member_app.command("deactivate")
def member_deactivate(
    name: Annotated[str, typer.Argument(help="The member's name.")],
    by: ByOpt,
    db: DbOpt = None,
) -> None:
    """Take a member off the committee (免去委员资格); past meetings keep their attendance."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import deactivate_member

        member = deactivate_member(engine_for(db), name, by=by)
        console.print(f"deactivated 已免去: {member.name}", highlight=False)

    guarded(run)


@member_app.command("list")
def member_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The committee's roll (委员名单)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import list_members

        members = list_members(engine_for(db))
        if as_json:
            _print_json(
                [{"name": m.name, "role": m.role.value, "active": m.active} for m in members]
            )
            return
        table = Table()
        for column in ("member 委员", "role 职务", "votes 表决权", "active 在任"):
            table.add_column(column)
        for m in members:
            table.add_row(
                m.name,
                f"{m.role.value} {m.role.name_zh}",
                yes_no(m.role.votes),
                yes_no(m.active),
            )
        console.print(table)

    guarded(run)


# --------------------------------------------------------------------------- cases
@committee_app.command("open")
def case_open(
    application_id: ApplicationArg,
    borrower: Annotated[str, typer.Option("--borrower", help="The borrower's name (借款人).")],
    amount: Annotated[str, typer.Option("--amount", help="Amount in CNY, e.g. 200000.")],
    term: TermOpt,
    rate: Annotated[str, typer.Option("--rate", help="Annual rate as a fraction, e.g. 0.0865.")],
    investigated_by: Annotated[
        str, typer.Option("--investigated-by", help="The loan officer who investigated (调查人).")
    ],
    referred_by: Annotated[
        str, typer.Option("--referred-by", help="Who referred and presents it (推荐人/主审人).")
    ],
    by: ByOpt,
    method: Annotated[
        str, typer.Option("--method", help="Repayment method (还款方式), e.g. equal-installment.")
    ] = "equal-installment",
    guarantee: Annotated[
        str, typer.Option("--guarantee", help="Guarantee or collateral (担保方式).")
    ] = "",
    memo: Annotated[
        Path | None,
        typer.Option("--memo", help="The credit memo (xiaowei analyse application --html)."),
    ] = None,
    decision_id: Annotated[
        int | None, typer.Option("--decision-id", help="The automated decision record's id.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put an application before the committee (提交上会); the case is open (待上会)."""
    from xiaowei.entrypoints.cli import _print_json, _rate, console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.core.money import parse_amount
        from xiaowei.services.committee import open_case

        case = open_case(
            engine_for(db),
            application_id=application_id,
            borrower=borrower,
            amount=parse_amount(amount),
            term_months=term,
            annual_rate=_rate(rate),
            method=method,
            investigated_by=investigated_by,
            referred_by=referred_by,
            memo_path=memo,
            decision_id=decision_id,
            guarantee=guarantee,
            by=by,
        )
        if as_json:
            _print_json(_case_json(case))
            return
        console.print(f"opened 已提交上会: {_line(case)}", highlight=False, soft_wrap=True)

    guarded(run)


@committee_app.command("convene")
def case_convene(
    case: CaseArg,
    present: Annotated[
        str, typer.Option("--present", help="The members present, comma-separated (出席委员).")
    ],
    by: ByOpt,
    meeting_date: Annotated[
        str | None, typer.Option("--date", help="Meeting date YYYY-MM-DD (default: today).")
    ] = None,
    threshold: Annotated[
        str, typer.Option("--threshold", help="Share of eligible voters to approve (通过比例).")
    ] = "2/3",
    quorum: Annotated[
        str, typer.Option("--quorum", help="Share of voting members to be present (法定人数).")
    ] = "2/3",
    min_present: Annotated[
        int, typer.Option("--min-present", help="Never fewer eligible voters than this.")
    ] = 3,
    chair_veto: Annotated[
        bool,
        typer.Option("--chair-veto/--no-chair-veto", help="The chair's reject vote vetoes."),
    ] = True,
    db: DbOpt = None,
) -> None:
    """Hold the meeting (上会审议): attendance, recusal of the investigator and the referrer,
    the quorum check and the voting rule of this case."""
    from xiaowei.entrypoints.cli import _date, console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.decision.committee import VotingRule, check_quorum, parse_fraction
        from xiaowei.services.committee import convene

        rule = VotingRule(
            threshold=parse_fraction(threshold, "threshold"),
            quorum_share=parse_fraction(quorum, "quorum"),
            min_present=min_present,
            chair_veto=chair_veto,
        )
        result = convene(
            engine_for(db),
            _case_id(case),
            present=present.split(","),
            by=by,
            meeting_date=None if meeting_date is None else _date(meeting_date, "date"),
            rule=rule,
        )
        assert result.rule is not None
        q = check_quorum(result.seats, result.recusals, result.rule)
        console.print(
            f"convened 审议中: {result.number} on {result.meeting_date}; quorum 法定人数 "
            f"{q.eligible}/{q.required} met ({q.present} of {q.voting_members} voting members "
            f"present, {q.recused} recused)",
            highlight=False,
            soft_wrap=True,
        )
        for r in result.recusals:
            console.print(
                f"  recused 回避: {r.member} ({r.kind.value}: {r.reason})", highlight=False
            )

    guarded(run)


@committee_app.command("recuse")
def case_recuse(
    case: CaseArg,
    member: MemberOpt,
    reason: Annotated[str, typer.Option("--reason", help="The conflict of interest (事由).")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who records it (default: the member).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """A member declares a conflict of interest and does not vote (申报利益冲突, 回避)."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import declare_conflict

        result = declare_conflict(
            engine_for(db), _case_id(case), member=member, reason=reason, by=by
        )
        console.print(f"recused 回避: {member} from {result.number}", highlight=False)

    guarded(run)


@committee_app.command("vote")
def case_vote(
    case: CaseArg,
    member: MemberOpt,
    vote: Annotated[str, typer.Option("--vote", help="approve, conditions or reject.")],
    opinion: Annotated[str, typer.Option("--opinion", help="The written opinion (书面意见).")],
    conditions: Annotated[
        str, typer.Option("--conditions", help="The conditions of a conditional approval.")
    ] = "",
    db: DbOpt = None,
) -> None:
    """A member's vote with the written opinion (表决); a vote stands once cast."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import vote as cast

        result = cast(
            engine_for(db),
            _case_id(case),
            member=member,
            choice=vote,
            opinion=opinion,
            conditions=conditions,
        )
        recorded = result.vote_of(member)
        assert recorded is not None
        console.print(
            f"voted 已表决: {member} {recorded.choice.value} {recorded.choice.name_zh} "
            f"on {result.number} ({len(result.votes)} vote(s) so far)",
            highlight=False,
        )

    guarded(run)


@committee_app.command("decide")
def case_decide(case: CaseArg, by: ByOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Count the votes and record the resolution (形成决议)."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import decide, stored_tally

        engine = engine_for(db)
        result = decide(engine, _case_id(case), by=by)
        tally = stored_tally(engine, result.id) or {}
        if as_json:
            _print_json(_case_json(result, tally))
            return
        assert result.resolution is not None
        in_favour = tally["approve"] + tally["conditions"]
        console.print(
            f"decided 已决议: {result.number} {result.resolution.value} "
            f"{result.resolution.name_zh} — {in_favour} of {tally['eligible']} eligible voters "
            f"in favour (threshold {tally['threshold']}), {tally['reject']} against"
            + ("; the chair vetoed 主任委员一票否决" if tally["chair_vetoed"] else ""),
            highlight=False,
            soft_wrap=True,
        )
        for i, c in enumerate(result.conditions, start=1):
            console.print(f"  condition 条件 {i}: {c}", highlight=False, soft_wrap=True)

    guarded(run)


@committee_app.command("show")
def case_show(case: CaseArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One case: the proposal, attendance, recusals, votes and the resolution."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import get_case, stored_tally

        engine = engine_for(db)
        found = get_case(engine, _case_id(case))
        tally = stored_tally(engine, found.id)
        if as_json:
            _print_json(_case_json(found, tally))
            return
        console.print(_line(found), highlight=False, soft_wrap=True)
        console.print(
            f"status 状态: {found.status.value} {found.status.name_zh} · investigated by 调查人 "
            f"{found.investigated_by} · referred by 推荐人 {found.referred_by}"
            + (f" · meeting 会议 {found.meeting_date}" if found.meeting_date else ""),
            highlight=False,
            soft_wrap=True,
        )
        if found.seats:
            table = Table(title="attendance and votes 出席与表决")
            for column in ("member 委员", "role 职务", "present 出席", "vote 表决", "opinion 意见"):
                table.add_column(column)
            for s in found.seats:
                recusal = found.recusal(s.member)
                v = found.vote_of(s.member)
                if recusal is not None:
                    shown = f"recused 回避 ({recusal.kind.value})"
                elif v is not None:
                    shown = f"{v.choice.value} {v.choice.name_zh}"
                else:
                    shown = "—"
                opinion = "" if v is None else v.opinion
                if v is not None and v.conditions:
                    opinion += f" [conditions 条件: {v.conditions}]"
                table.add_row(
                    s.member,
                    f"{s.role.value} {s.role.name_zh}",
                    yes_no(s.present),
                    shown,
                    opinion,
                )
            console.print(table)
        if found.resolution is not None and tally is not None:
            console.print(
                f"resolution 决议: {found.resolution.value} {found.resolution.name_zh} · "
                f"{tally['approve'] + tally['conditions']} of {tally['eligible']} in favour "
                f"(threshold {tally['threshold']}) · decided by {found.decided_by}",
                highlight=False,
                soft_wrap=True,
            )
            for i, c in enumerate(found.conditions, start=1):
                console.print(f"  condition 条件 {i}: {c}", highlight=False, soft_wrap=True)

    guarded(run)


@committee_app.command("list")
def case_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every case before the committee and where it stands."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import list_cases

        cases = list_cases(engine_for(db))
        if as_json:
            _print_json([_case_json(c) for c in cases])
            return
        table = Table()
        for column in ("case 编号", "application 申请", "borrower 借款人"):
            table.add_column(column)
        table.add_column("amount 金额", justify="right")
        for column in ("status 状态", "resolution 决议"):
            table.add_column(column)
        for c in cases:
            table.add_row(
                c.number,
                c.application_id,
                c.borrower,
                f"{c.proposal.amount:,.2f}",
                f"{c.status.value} {c.status.name_zh}",
                f"{c.resolution.value} {c.resolution.name_zh}" if c.resolution else "—",
            )
        console.print(table)

    guarded(run)


@committee_app.command("form")
def case_form(
    case: CaseArg,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the form as one HTML file.")
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the form as PDF.")] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of the form: zh-CN or en (default: the CLI's)."),
    ] = None,
    institution: Annotated[
        str, typer.Option("--institution", help="The institution's name on the form.")
    ] = "xiaowei 小微",
    db: DbOpt = None,
) -> None:
    """The resolution form (决议表), HTML and/or PDF, with the credit memo attached."""
    from xiaowei.entrypoints.cli import console, guarded

    def run() -> None:
        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import write_resolution_form

        form_lang = document_lang(lang)
        found = write_resolution_form(
            engine_for(db),
            _case_id(case),
            html=html,
            pdf=pdf,
            lang=form_lang,
            institution=institution,
        )
        written = " and ".join(str(p) for p in (html, pdf) if p is not None)
        memo = "with the credit memo attached" if found.memo_path else "without a credit memo"
        console.print(
            f"wrote 决议表 {found.number} ({form_lang}) to {written}, {memo}",
            highlight=False,
            soft_wrap=True,
        )

    guarded(run)


@committee_app.command("events")
def case_events(case: CaseArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The audit trail of a case (审计记录): who did what, when, from which status to which."""
    from xiaowei.entrypoints.cli import _print_json, console, guarded

    def run() -> None:
        from rich.table import Table

        from xiaowei.bootstrap import engine_for
        from xiaowei.services.committee import events

        rows = events(engine_for(db), _case_id(case))
        if as_json:
            _print_json(
                [{k: (v.isoformat() if k == "at" else v) for k, v in r.items()} for r in rows]
            )
            return
        table = Table()
        for column in ("at 时间", "by 操作人", "action 动作", "member 委员", "status 状态"):
            table.add_column(column)
        table.add_column("note 说明")
        for r in rows:
            moved = f"{r['from_status'] or '—'} → {r['to_status']}" if r["to_status"] else ""
            table.add_row(
                r["at"].strftime("%Y-%m-%d %H:%M:%S"),
                r["by"],
                r["action"],
                r["member"] or "",
                moved,
                r["note"],
            )
        console.print(table)

    guarded(run)
