"""The resolution form (决议表) with a real credit memo of a simulated applicant: the HTML opens in
a real browser (no console error, nothing fetched, the memo appendix present) in Chinese and
English, and the PDF is a PDF with the case on it and the memo embedded byte for byte (read
with the standard library only: zlib and base64)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from xiaowei.core.i18n import Lang
from xiaowei.services import committee as cc

CHROMIUM = Path("/usr/bin/chromium")
T0 = datetime(2025, 5, 8, 9, 0, tzinfo=UTC)
BORROWER = "台州市安泰副食品商行"
HEADINGS: dict[Lang, list[str]] = {
    "zh-CN": [
        "信贷审批委员会决议表",
        "上会项目及授信方案",
        "出席情况与法定人数",
        "利益冲突回避",
        "表决意见",
        "计票及表决规则",
        "决议",
        "签字",
        "附件：授信审查报告",
    ],
    "en": [
        "Credit committee resolution",
        "The application and the proposal",
        "Attendance and quorum",
        "Conflicts of interest (recusals)",
        "Votes and written opinions",
        "Tally and the rule applied",
        "Resolution",
        "Signatures",
        "Appendix: the credit memo",
    ],
}


@pytest.fixture(scope="module")
def memo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The credit memo of business 3 of a small simulated run, as `analyse application --html`
    writes it."""
    from typer.testing import CliRunner

    from xiaowei.entrypoints.cli import app

    folder = tmp_path_factory.mktemp("sim")
    runner = CliRunner()
    run = runner.invoke(
        app, ["simulate", "--businesses", "30", "--seed", "11", "--out", str(folder / "sim")]
    )
    assert run.exit_code == 0, run.output
    out = folder / "memo.html"
    result = runner.invoke(
        app,
        ["analyse", "application", str(folder / "sim"), "--business", "3", "--html", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out


def _decided_case(db: Engine, memo: Path) -> int:
    cc.add_member(db, "wang", "chair", by="admin", at=T0)
    for name in ("li", "zhao", "chen", "sun", "zhou"):
        cc.add_member(db, name, "member", by="admin", at=T0)
    cc.add_member(db, "qian", "secretary", by="admin", at=T0)
    case = cc.open_case(
        db,
        application_id="APP-3",
        borrower=BORROWER,
        amount=Decimal("150000"),
        term_months=12,
        annual_rate=Decimal("0.0865"),
        method="equal-installment",
        investigated_by="zhou",
        referred_by="li",
        memo_path=memo,
        by="zhou",
        at=T0,
        guarantee="法定代表人个人连带责任保证",
    )
    present = ["wang", "li", "zhao", "chen", "sun", "zhou", "qian"]
    cc.convene(db, case.id, present=present, by="qian", meeting_date=date(2025, 5, 8), at=T0)
    cc.vote(db, case.id, member="wang", choice="approve", opinion="现金流可覆盖月供", at=T0)
    cc.vote(
        db,
        case.id,
        member="zhao",
        choice="conditions",
        opinion="还款能力偏弱",
        conditions="金额降至10万元; 追加配偶担保",
        at=T0,
    )
    cc.vote(db, case.id, member="chen", choice="approve", opinion="经营稳定", at=T0)
    cc.vote(db, case.id, member="sun", choice="approve", opinion="征信良好", at=T0)
    cc.decide(db, case.id, by="qian", at=T0)
    return case.id


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("XIAOWEI_REQUIRE_BROWSER"):
        pytest.fail(f"XIAOWEI_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
    pytest.skip(f"no browser at {CHROMIUM} (set XIAOWEI_REQUIRE_BROWSER=1 to fail instead)")


def _unescape_pdf_string(body: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != 0x5C:  # backslash
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(nxt, nxt)
            i += 2
    return bytes(out)


def _pdf_streams(data: bytes) -> list[tuple[bytes, bytes]]:
    """(dictionary, decoded content) of every stream: ASCII85 and/or Flate, as ReportLab
    writes them."""
    out = []
    for m in re.finditer(rb"<<((?:(?!stream).)*?)>>\s*stream\r?\n", data, re.S):
        head = m.group(1)
        length = re.search(rb"/Length (\d+)", head)
        assert length is not None
        body = data[m.end() : m.end() + int(length.group(1))]
        if b"ASCII85Decode" in head:
            body = base64.a85decode(body.strip().removesuffix(b"~>"), adobe=False)
        if b"FlateDecode" in head:
            body = zlib.decompress(body)
        out.append((head, body))
    return out


def pdf_text(data: bytes) -> str:
    """The text shown on the pages: the strings of the Tj operators, in UCS-2 (the CID font
    STSong-Light with UniGB-UCS2-H)."""
    texts = []
    for head, body in _pdf_streams(data):
        if b"EmbeddedFile" in head:
            continue
        for s in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", body, re.S):
            raw = _unescape_pdf_string(s)
            texts.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(texts)


def test_resolution_form_in_a_browser_and_as_pdf(db_url: str, memo: Path, tmp_path: Path) -> None:
    from xiaowei.adapters.db import make_engine

    db = make_engine(db_url)
    case_id = _decided_case(db, memo)
    forms: dict[Lang, Path] = {}
    for lang in HEADINGS:
        html, pdf = tmp_path / f"form-{lang}.html", tmp_path / f"form-{lang}.pdf"
        cc.write_resolution_form(db, case_id, html=html, pdf=pdf, lang=lang)
        forms[lang] = html

        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-1.")
        assert data.rstrip().endswith(b"%%EOF")
        pages = len(re.findall(rb"/Type /Page\b(?!s)", data))
        assert 1 <= pages <= 4
        text = pdf_text(data)
        assert "CC-0001" in text
        assert BORROWER in text
        assert "150,000.00" in text
        assert ("附条件同意" if lang == "zh-CN" else "conditional") in text
        assert "追加配偶担保" in text
        embedded = [body for head, body in _pdf_streams(data) if b"/Type /EmbeddedFile" in head]
        assert len(embedded) == 1
        assert (
            hashlib.sha256(embedded[0]).hexdigest() == hashlib.sha256(memo.read_bytes()).hexdigest()
        )
        assert b"/EmbeddedFiles" in data
        assert b"(memo.html)" in data
    db.dispose()

    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            for lang, form in forms.items():
                page = browser.new_page(viewport={"width": 900, "height": 1200})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("requestfailed", lambda r: failed.append(r.url))
                page.goto(form.as_uri())
                page.wait_for_load_state("load")
                headings = page.evaluate(
                    "Array.from(document.querySelectorAll('body > header h1, body > section > h2'))"
                    ".map(h => h.textContent.trim())"
                )
                assert [h.split("、", 1)[-1].split(". ", 1)[-1] for h in headings] == HEADINGS[lang]
                assert page.locator("#case-number").inner_text() == "CC-0001"
                assert page.locator("tr[data-member]").count() == 4  # wang, zhao, chen, sun
                assert page.locator(".badge.resolution.conditional").is_visible()
                frame = page.frame_locator("#memo")
                assert frame.locator("h1").first.inner_text() == "授信审查报告"
                # the memo's own charts decode inside the appendix
                widths = page.evaluate(
                    "Array.from(document.getElementById('memo').contentDocument.images)"
                    ".map(i => i.naturalWidth)"
                )
                assert widths
                assert all(w > 0 for w in widths)
                height = page.evaluate("document.getElementById('memo').offsetHeight")
                assert height > 2000  # sized to the memo, not a small scroll box
                page.close()
        finally:
            browser.close()
    assert errors == []
    assert failed == []
