"""The credit committee's resolution form (信贷审批委员会决议表), as HTML and as PDF.

What the form records (the minutes a regulator or an auditor asks for): the institution, the
case number and meeting date, the borrower and the proposal (amount, term, rate, repayment
method, guarantee), who investigated and who referred the application, the members present and
absent with the quorum check (法定人数), the recusals (回避) and their reasons, every member's
vote with the written opinion (书面意见), the tally against the rule applied (threshold, chair's
veto), the resolution and its conditions, and a signature block.

* **HTML** (:func:`render_resolution_html`): one self-contained file, the credit memo attached as
  an appendix inside an ``<iframe srcdoc>`` (its own styles stay its own; no network, no other
  file).
* **PDF** (:func:`render_resolution_pdf`): drawn with ReportLab's platypus, Chinese in the
  built-in CID font STSong-Light (no font file needed). The credit memo is **embedded as a file
  attachment** (PDF ``/EmbeddedFiles`` name tree, the memo's HTML byte for byte), and an
  appendix page names it with its size and sha256.

Both are built from one :func:`form_data`, so the two say the same thing.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from xiaowei.core.errors import InvalidInput
from xiaowei.core.i18n import Lang
from xiaowei.decision.committee import (
    CaseStatus,
    Choice,
    CommitteeCase,
    Resolution,
    Role,
    check_quorum,
    eligible_voters,
    tally_case,
)
from xiaowei.lending.schedule import RepaymentMethod
from xiaowei.reports.page import environment
from xiaowei.reports.page import pick as _pick

__all__ = [
    "LANGS",
    "MemoAttachment",
    "form_data",
    "render_resolution_html",
    "render_resolution_pdf",
]

LANGS: tuple[Lang, ...] = ("zh-CN", "en")

# (English, Chinese)
_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Credit committee resolution", "信贷审批委员会决议表"),
    "draft": (
        "DRAFT — the committee has not decided this case yet",
        "草稿 — 本项目尚未形成决议",
    ),
    "case_no": ("Case number", "上会编号"),
    "meeting_date": ("Meeting date", "会议日期"),
    "status": ("Status", "状态"),
    "sec_case": ("The application and the proposal", "上会项目及授信方案"),
    "application": ("Application", "申请编号"),
    "borrower": ("Borrower", "借款人"),
    "amount": ("Amount (CNY)", "金额（元）"),
    "term": ("Term", "期限"),
    "months": ("{n} months", "{n}个月"),
    "rate": ("Annual rate", "年利率"),
    "method": ("Repayment method", "还款方式"),
    "guarantee": ("Guarantee", "担保方式"),
    "investigated_by": ("Investigated by", "调查人"),
    "referred_by": ("Referred and presented by", "推荐人/主审人"),
    "decision_id": ("Automated decision", "自动审批决策编号"),
    "memo": ("Credit memo", "授信审查报告"),
    "memo_attached": ("attached (appendix), sha256 {sha}", "见附件，sha256 {sha}"),
    "none": ("none", "无"),
    "sec_attendance": ("Attendance and quorum", "出席情况与法定人数"),
    "member": ("Member", "委员"),
    "role": ("Role", "职务"),
    "presence": ("Attendance", "出席"),
    "present": ("present", "出席"),
    "absent": ("absent", "缺席"),
    "recusal": ("Recusal", "回避"),
    "quorum_line": (
        "Voting members {n}; present {p}; recused {r}; eligible voters {e}; required {q}",
        "有表决权委员 {n} 人，出席 {p} 人，回避 {r} 人，有效表决人数 {e} 人，法定人数 {q} 人",
    ),
    "quorum_met": ("Quorum met", "达到法定人数"),
    "quorum_not_met": ("Quorum NOT met", "未达到法定人数"),
    "not_convened": ("The meeting has not been held yet.", "尚未召开审议会议。"),
    "sec_recusals": ("Conflicts of interest (recusals)", "利益冲突回避"),
    "reason": ("Reason", "事由"),
    "no_recusals": ("No member was recused.", "无委员回避。"),
    "sec_votes": ("Votes and written opinions", "表决意见"),
    "vote": ("Vote", "表决"),
    "opinion": ("Written opinion", "书面意见"),
    "conditions": ("Conditions", "附加条件"),
    "not_voted": ("not voted", "未表决"),
    "no_votes": ("No vote yet.", "尚无表决。"),
    "sec_tally": ("Tally and the rule applied", "计票及表决规则"),
    "in_favour": ("In favour (approve + with conditions)", "赞成票（同意 + 附条件同意）"),
    "against": ("Against (reject)", "反对票（否决）"),
    "share": ("In favour ÷ eligible voters", "赞成票 ÷ 有效表决人数"),
    "threshold": ("Threshold", "通过比例"),
    "rule_text": (
        "Approval needs at least {t} of the eligible voters present; quorum: at least {qs} of "
        "the voting members and never fewer than {m}; {veto}.",
        "同意票（含附条件同意）须达到出席且有表决权委员的 {t} 以上方为通过；"
        "法定人数为有表决权委员的 {qs} 以上且不少于 {m} 人；{veto}。",
    ),
    "veto_on": (
        "the chair's reject vote rejects the case (veto); the chair cannot override a majority "
        "reject",
        "主任委员有一票否决权，但不得推翻多数否决",
    ),
    "veto_off": ("the chair has no veto", "主任委员无一票否决权"),
    "vetoed": ("The chair vetoed the approval.", "主任委员行使一票否决权。"),
    "sec_resolution": ("Resolution", "决议"),
    "pending": ("pending", "待决议"),
    "decided_by": ("Recorded by", "记录人"),
    "decided_at": ("Decided at", "决议时间"),
    "sec_signatures": ("Signatures", "签字"),
    "signature": ("Signature", "签字"),
    "date": ("Date", "日期"),
    "sec_appendix": ("Appendix: the credit memo", "附件：授信审查报告"),
    "no_memo": ("No credit memo was submitted with this case.", "本项目未附授信审查报告。"),
    "pdf_attachment": (
        "The credit memo is embedded in this PDF as the attached file “{name}” ({size} bytes, "
        "sha256 {sha}); open it from the viewer's attachments panel.",
        "授信审查报告已作为附件“{name}”嵌入本PDF（{size}字节，sha256 {sha}），"
        "请在阅读器的附件面板中打开。",
    ),
    "footer": (
        "Generated by xiaowei from the committee's records; every vote, recusal and change is "
        "in the audit trail (xiaowei committee events).",
        "本表由 xiaowei 根据贷审会记录生成，所有表决、回避及状态变更均可在审计记录中查询"
        "（xiaowei committee events）。",
    ),
}

_RECUSAL_WHY = {
    "investigated": ("investigated the application", "调查人"),
    "referred": ("referred the application", "推荐人/主审人"),
    "declared": ("declared a conflict", "申报利益冲突"),
}


def _enum(value: Role | Choice | Resolution | CaseStatus, lang: Lang) -> str:
    return value.name_zh if lang == "zh-CN" else value.value.replace("_", " ")


def _fraction(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value)


@dataclass(frozen=True)
class MemoAttachment:
    """The credit memo as submitted: its file name, HTML and sha256 (checked by the caller)."""

    name: str
    html: str

    @property
    def data(self) -> bytes:
        return self.html.encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def form_data(
    case: CommitteeCase, lang: Lang = "zh-CN", *, institution: str = "xiaowei 小微"
) -> dict[str, Any]:
    """Everything the form shows, as strings in ``lang`` (shared by HTML and PDF)."""
    if lang not in LANGS:
        raise InvalidInput("lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")

    tx = _text_fn(lang)
    p = case.proposal
    method = RepaymentMethod(p.method)
    case_rows = [
        (tx("application"), case.application_id),
        (tx("borrower"), case.borrower),
        (tx("amount"), f"{p.amount:,.2f}"),
        (tx("term"), tx("months", n=p.term_months)),
        (tx("rate"), f"{p.annual_rate * 100:.4f}%"),
        (tx("method"), method.name_zh if lang == "zh-CN" else method.value),
        (tx("guarantee"), p.guarantee or tx("none")),
        (tx("investigated_by"), case.investigated_by),
        (tx("referred_by"), case.referred_by),
        (tx("decision_id"), str(case.decision_id) if case.decision_id else tx("none")),
        (
            tx("memo"),
            tx("memo_attached", sha=case.memo_sha256[:16]) if case.memo_sha256 else tx("none"),
        ),
    ]
    recused = {r.member: r for r in case.recusals}
    attendance = [
        {
            "member": s.member,
            "role": _enum(s.role, lang),
            "present": s.present,
            "presence": tx("present") if s.present else tx("absent"),
            "recusal": _pick(_RECUSAL_WHY[recused[s.member].kind.value], lang)
            if s.member in recused
            else "",
        }
        for s in case.seats
    ]
    recusals = [
        {
            "member": r.member,
            "why": _pick(_RECUSAL_WHY[r.kind.value], lang),
            "reason": r.reason,
        }
        for r in case.recusals
    ]
    quorum = None
    tally_info = None
    votes: list[dict[str, str]] = []
    rule_text = ""
    if case.rule is not None and case.seats:
        rule = case.rule
        q = check_quorum(case.seats, case.recusals, rule)
        quorum = {
            "line": tx(
                "quorum_line",
                n=q.voting_members,
                p=q.present,
                r=q.recused,
                e=q.eligible,
                q=q.required,
            ),
            "met": q.met,
            "verdict": tx("quorum_met") if q.met else tx("quorum_not_met"),
        }
        rule_text = tx(
            "rule_text",
            t=_fraction(rule.threshold),
            qs=_fraction(rule.quorum_share),
            m=rule.min_present,
            veto=tx("veto_on") if rule.chair_veto else tx("veto_off"),
        )
        voters = eligible_voters(case.seats, case.recusals)
        roles = {s.member: s.role for s in case.seats}
        for name in voters:
            v = case.vote_of(name)
            votes.append(
                {
                    "member": name,
                    "role": _enum(roles[name], lang),
                    "choice": "" if v is None else v.choice.value,
                    "vote": tx("not_voted") if v is None else _enum(v.choice, lang),
                    "opinion": "" if v is None else v.opinion,
                    "conditions": "" if v is None else v.conditions,
                    "at": "" if v is None else _when(v.at),
                }
            )
        tl = tally_case(case, rule)
        tally_info = {
            "in_favour": f"{tl.in_favour} ({tl.approve} + {tl.conditions})",
            "against": str(tl.reject),
            "share": f"{tl.in_favour}/{tl.eligible}"
            + (f" = {float(tl.share):.1%}" if tl.eligible else ""),
            "threshold": f"{_fraction(tl.threshold)} = {float(tl.threshold):.1%}",
            "vetoed": tl.chair_vetoed and case.resolution is not None,
        }
    resolution = case.resolution
    signatories = [
        {"member": s.member, "role": _enum(s.role, lang)}
        for s in case.seats
        if s.present and (not s.role.votes or s.member not in recused)
    ]
    return {
        "lang": lang,
        "institution": institution,
        "title": tx("title"),
        "number": case.number,
        "meeting_date": case.meeting_date.isoformat() if case.meeting_date else "—",
        "status": _enum(case.status, lang),
        "draft": case.status is not CaseStatus.DECIDED,
        "case_rows": case_rows,
        "attendance": attendance,
        "quorum": quorum,
        "recusals": recusals,
        "votes": votes,
        "tally": tally_info,
        "rule_text": rule_text,
        "resolution": None if resolution is None else resolution.value,
        "resolution_text": tx("pending") if resolution is None else _enum(resolution, lang),
        "conditions": list(case.conditions),
        "decided_by": case.decided_by or "",
        "decided_at": _when(case.decided_at),
        "signatories": signatories,
    }


def _text_fn(lang: Lang) -> Any:
    def tx(key: str, **kw: object) -> str:
        return _pick(_TEXT[key], lang).format(**kw)

    return tx


def render_resolution_html(
    case: CommitteeCase,
    lang: Lang = "zh-CN",
    *,
    memo: MemoAttachment | None = None,
    institution: str = "xiaowei 小微",
) -> str:
    """The resolution form as one self-contained HTML page, the memo in an appendix."""
    data = form_data(case, lang, institution=institution)
    env = environment()
    env.globals["t"] = _text_fn(lang)
    template = env.get_template("resolution_form.html")
    return template.render(
        **data,
        memo_html=None if memo is None else memo.html,
        memo_name=None if memo is None else memo.name,
        memo_sha=None if memo is None else memo.sha256,
    )


# --------------------------------------------------------------------------- PDF
_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def _embed_file(canvas: Any, name: str, data: bytes, description: str) -> None:
    """Attach ``data`` to the PDF as an embedded file (PDF 1.7 §7.11.4, the /EmbeddedFiles name
    tree of the catalog): viewers list it in their attachments panel."""
    from reportlab.pdfbase.pdfdoc import (
        PDFArray,
        PDFDictionary,
        PDFName,
        PDFStream,
        PDFString,
        PDFZCompress,
    )

    doc = canvas._doc
    stream = PDFStream(
        PDFDictionary(
            {
                "Type": PDFName("EmbeddedFile"),
                "Subtype": "/text#2Fhtml",  # the MIME type, '/' escaped as a PDF name wants
                "Params": PDFDictionary(
                    {"Size": len(data), "CheckSum": PDFString(hashlib.md5(data).hexdigest())}
                ),
            }
        ),
        content=data,
        filters=[PDFZCompress],
    )
    spec = PDFDictionary(
        {
            "Type": PDFName("Filespec"),
            "F": PDFString(name),
            "UF": PDFString(name),
            "Desc": PDFString(description),
            "EF": PDFDictionary({"F": doc.Reference(stream)}),
            "AFRelationship": PDFName("Supplement"),
        }
    )
    doc.Catalog.Names = PDFDictionary(
        {
            "EmbeddedFiles": PDFDictionary(
                {"Names": PDFArray([PDFString(name), doc.Reference(spec)])}
            )
        }
    )
    doc.Catalog.PageMode = PDFName("UseAttachments")


def render_resolution_pdf(
    case: CommitteeCase,
    lang: Lang = "zh-CN",
    *,
    memo: MemoAttachment | None = None,
    institution: str = "xiaowei 小微",
) -> bytes:
    """The resolution form as an A4 PDF; the memo, if any, embedded as a file attachment."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    _register_font()
    data = form_data(case, lang, institution=institution)
    tx = _text_fn(lang)
    accent = colors.HexColor("#1c5d99")
    base = ParagraphStyle(
        "base", fontName=_FONT, fontSize=9.5, leading=13, wordWrap="CJK", textColor="#1f2933"
    )
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor="#52606d")
    h1 = ParagraphStyle("h1", parent=base, fontSize=17, leading=22, textColor=accent)
    h2 = ParagraphStyle(
        "h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4, textColor=accent
    )
    big = ParagraphStyle("big", parent=base, fontSize=14, leading=19)

    def para(text: object, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    def grid(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
        table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("FONTNAME", (0, 0), (-1, -1), _FONT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#d9e2ec")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f5f7fa")))
        table.setStyle(TableStyle(style))
        return table

    width = A4[0] - 28 * mm
    story: list[Any] = [
        para(data["institution"], small),
        para(data["title"], h1),
        para(
            f"{tx('case_no')}: {data['number']}    {tx('meeting_date')}: {data['meeting_date']}"
            f"    {tx('status')}: {data['status']}"
        ),
    ]
    if data["draft"]:
        story.append(para(tx("draft"), ParagraphStyle("d", parent=base, textColor="#c92a2a")))
    story += [para(tx("sec_case"), h2)]
    story.append(
        grid(
            [[para(k), para(v)] for k, v in data["case_rows"]],
            [0.3 * width, 0.7 * width],
            header=False,
        )
    )

    story.append(para(tx("sec_attendance"), h2))
    if data["quorum"] is None:
        story.append(para(tx("not_convened")))
    else:
        rows = [[para(tx(k)) for k in ("member", "role", "presence", "recusal")]]
        rows += [
            [para(a["member"]), para(a["role"]), para(a["presence"]), para(a["recusal"])]
            for a in data["attendance"]
        ]
        story.append(grid(rows, [0.3 * width, 0.2 * width, 0.15 * width, 0.35 * width]))
        q = data["quorum"]
        story.append(para(f"{q['line']} — {q['verdict']}"))

    story.append(para(tx("sec_recusals"), h2))
    if data["recusals"]:
        rows = [[para(tx("member")), para(tx("recusal")), para(tx("reason"))]]
        rows += [[para(r["member"]), para(r["why"]), para(r["reason"])] for r in data["recusals"]]
        story.append(grid(rows, [0.25 * width, 0.25 * width, 0.5 * width]))
    else:
        story.append(para(tx("no_recusals")))

    story.append(para(tx("sec_votes"), h2))
    if data["votes"]:
        rows = [[para(tx(k)) for k in ("member", "vote", "opinion", "conditions")]]
        rows += [
            [
                para(f"{v['member']}\n{v['role']}"),
                para(v["vote"]),
                para(v["opinion"]),
                para(v["conditions"]),
            ]
            for v in data["votes"]
        ]
        story.append(grid(rows, [0.2 * width, 0.15 * width, 0.4 * width, 0.25 * width]))
    else:
        story.append(para(tx("no_votes")))

    if data["tally"] is not None:
        tl = data["tally"]
        story.append(para(tx("sec_tally"), h2))
        rows = [
            [para(tx("in_favour")), para(tl["in_favour"])],
            [para(tx("against")), para(tl["against"])],
            [para(tx("share")), para(tl["share"])],
            [para(tx("threshold")), para(tl["threshold"])],
        ]
        story.append(grid(rows, [0.45 * width, 0.55 * width], header=False))
        story.append(para(data["rule_text"], small))
        if tl["vetoed"]:
            story.append(para(tx("vetoed")))

    resolution = [para(tx("sec_resolution"), h2), para(data["resolution_text"], big)]
    for i, c in enumerate(data["conditions"], start=1):
        resolution.append(para(f"{i}. {c}"))
    if data["decided_at"]:
        resolution.append(
            para(
                f"{tx('decided_by')}: {data['decided_by']}    "
                f"{tx('decided_at')}: {data['decided_at']}",
                small,
            )
        )
    story.append(KeepTogether(resolution))

    rows = [[para(tx("member")), para(tx("role")), para(tx("signature")), para(tx("date"))]]
    rows += [[para(s["member"]), para(s["role"]), "", ""] for s in data["signatories"]]
    signatures = grid(rows, [0.25 * width, 0.2 * width, 0.35 * width, 0.2 * width])
    signatures.setStyle(TableStyle([("TOPPADDING", (0, 1), (-1, -1), 12)]))
    story.append(KeepTogether([para(tx("sec_signatures"), h2), signatures]))

    story.append(para(tx("sec_appendix"), h2))
    if memo is None:
        story.append(para(tx("no_memo")))
    else:
        story.append(
            para(tx("pdf_attachment", name=memo.name, size=f"{len(memo.data):,}", sha=memo.sha256))
        )
    story += [Spacer(1, 6 * mm), para(tx("footer"), small)]

    def first_page(canvas: Any, _doc: Any) -> None:
        if memo is not None:
            _embed_file(canvas, memo.name, memo.data, f"{tx('memo')} · {data['number']}")

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{data['number']} {data['title']}",
        subject=data["number"],
        author=institution,
        creator="xiaowei",
        invariant=True,
    )
    doc.build(story, onFirstPage=first_page)
    return out.getvalue()
