"""One campaign cycle on the demo data, in the browser (issue 5).

On the demo agency, the 直属单位党总支 organizer (``organizer2``) sets up a new 专项考核 over three
of its branches with the library's published indicator system the demo installs: result-use
rules, targets, a reviewer refused for a conflict of interest (王鸿波 works in 信息中心) and one
assigned, a timeline with 测评 switched off; publishes and opens 自评. The 档案馆 unit fills in
its last rows in the browser: an out-of-bounds score is refused in Chinese, an executable renamed
.pdf and an oversized file are refused, a real PDF is accepted, a bonus not claimed needs no
evidence, and it submits (the other two units submit through the service layer, to keep the
run short). The organizer moves to 评审; the reviewer finishes the grid (an out-of-bounds score,
a deduction that needs a reason) and submits. The organizer imports the quantitative data from
the downloaded template: a file with a bad cell is refused with its row and column, the fixed
file is taken. The progress dashboard then shows 100% for self-assessment, review and data.

Then the results (issue 7), still in the browser: the organizer moves to 汇总 and computes (a
background job the page follows), submits; the demo ``approver`` (机关党委书记) approves; 公示
starts. 档案馆 sees its own result, appeals the reviewer's 2 of 3 on 2.1 with a PDF; the organizer
upholds it with a corrected score, the result is recomputed and the diff shows the change; 归档
locks the results (confirming the early end of 公示) and the archive re-scores to the stored
numbers. Rectification proposals come from the results (the upheld appeal among them); the
unit's 填报员 writes the plan, reports completion with evidence, the organizer verifies it (销号),
and the 2026 annual campaign — the next cycle — lists it as verified under 上期整改.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from kaoping.accounts.models import Role, User
from kaoping.campaigns.demo import CAMPAIGN_NAME as ANNUAL_NAME
from kaoping.campaigns.models import Campaign, Stage, Target
from kaoping.cli import main as kaoping_main
from kaoping.collection import review_services, self_services
from kaoping.collection import self_selectors as self_sel
from kaoping.collection.models import AssessmentStatus, QuantValue, SelfAssessment
from kaoping.collection.review_selectors import review_columns
from kaoping.core.demo import DEMO_PASSWORD, build_demo
from kaoping.organizations.models import Organization
from kaoping.rectification.models import RectificationTask
from kaoping.results import services as results_services
from kaoping.results.models import ResultStatus, TargetResult

from ..evidence_samples import ELF_BYTES, pdf_bytes
from ..factories import PASSWORD, UserFactory, grant
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "直属单位党支部标准化规范化建设专项考核"
BRANCHES = {"ZB0601": "信息中心党支部", "ZB0602": "档案馆党支部", "ZB0603": "机关服务中心党支部"}
BROWSER_UNIT = "ZB0602"  # 档案馆: fills its last rows in the browser
BROWSER_ROWS = ("1.2", "J")  # left for the browser
BROWSER_CELLS = ("1.2", "2.1")  # left for the reviewer's browser session (档案馆 row)
IMPORT = re.compile(r"导入$")  # the button, not the file input labelled 导入文件


@pytest.fixture
def demo(db):
    """The demo agency, plus a 单位填报员 for each of the three branches."""
    build_demo()
    units = {}
    for code, name in BRANCHES.items():
        user = UserFactory(username=f"tb{code[2:]}", full_name=f"{name}填报员")
        grant(user, Role.SUBMITTER, Organization.objects.get(code=code))
        units[code] = user
    return units


# ---- the parts done through the services (the other units, the other cells) --------------


def _files(target: Target, n: int) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(f"{target.name}材料{k + 1}.pdf", pdf_bytes(f"{target.code} {k}"))
        for k in range(n)
    ]


def fill_self(unit: User, target: Target, *, skip: tuple[str, ...] = ()) -> None:
    """Fill every row of ``target``'s form (but ``skip``) with full marks and its evidence."""
    needed = max(r.required_count for r in self_sel.form_rows(target, None)) or 1
    evidence = [
        self_services.upload_evidence(actor=unit, organization=target.unit, uploaded_file=f)
        for f in _files(target, needed)
    ]
    for row in self_sel.form_rows(target, self_sel.assessment_for(target)):
        ind = row.indicator
        if ind.code in skip:
            continue
        if row.input == "grade":
            value = {"grade": row.grades[0]}
        elif row.input == "occurrences":
            value = {"occurrences": {it["code"]: 0 for it in row.items}}
        else:
            value = {"score": row.max if row.max is not None else 0}
        self_services.save_item(actor=unit, target=target, indicator=ind,
                                narrative="按要求完成，详见佐证材料。", **value)  # fmt: skip
        for e in evidence[: row.required_count]:
            self_services.attach_evidence(actor=unit, target=target, indicator=ind, evidence=e)


def fill_review(reviewer: User, campaign: Campaign, *, skip: set[tuple[str, str]]) -> None:
    """Score every cell of the reviewer's sheet (but ``skip``) at full marks."""
    columns = review_columns(campaign)
    for target in campaign.targets.order_by("code"):
        for col in columns:
            if (target.code, col.indicator.code) in skip:
                continue
            rule = col.rule
            if rule.input == "number":
                value = {"score": rule.max}
            elif rule.input == "grade":
                value = {"grade": rule.labels[0]}
            else:
                value = {"occurrences": {it.code: 0 for it in rule.items}}
            review_services.save_score(actor=reviewer, target=target, indicator=col.indicator,
                                       **value)  # fmt: skip


# ---- the browser ---------------------------------------------------------------------------


def row(page, code):
    return page.get_by_test_id(f"row-{code}")


def cell(page, label):
    return page.locator(f'td.kp-cell:has([aria-label="{label}"])')


def as_organizer(page):
    page.context.clear_cookies()
    login(page, "organizer2", DEMO_PASSWORD)


def tab(page, name):
    page.locator(".nav-tabs").get_by_role("link", name=name, exact=True).click()


def test_campaign_cycle_on_the_demo(page, demo, settings, tmp_path):
    settings.KAOPING_EVIDENCE_MAX_BYTES = 4096
    today = timezone.localdate()

    # ---- 1. The organizer sets the campaign up ------------------------------------------
    as_organizer(page)
    page.get_by_role("link", name="考核活动").first.click()
    page.get_by_role("link", name="新建考核活动").click()
    page.get_by_label("活动名称").fill(NAME)
    page.get_by_label("考核类型").select_option(label="专项考核")
    page.get_by_label("考核期起").fill(f"{today.year}-01-01")
    page.get_by_label("考核期止").fill(f"{today.year}-06-30")  # before the annual campaign's end
    expect(page.get_by_label("组织单位")).to_have_value(
        str(Organization.objects.get(code="ZZ06").pk)
    )
    page.get_by_label("指标体系版本").select_option(
        label="党支部年度工作考核（演示） 第1版（参考模板）"
    )
    page.get_by_label("考核目的（为什么考）").fill(
        "检验直属单位各党支部标准化规范化建设成效，推动党建与业务深度融合，解决“两张皮”问题。"
    )
    page.get_by_label("等次为“较好” → 具备评先评优资格").check()
    page.get_by_role("button", name="创建并添加考核对象").click()
    expect(page.get_by_role("alert").first).to_contain_text("下一步：添加考核对象")
    campaign = Campaign.objects.get(name=NAME)
    assert campaign.campaign_type == "special" and campaign.owner.code == "ZZ06"

    # Targets: three branches, one at a time (a branch as the range adds just that branch).
    for name in BRANCHES.values():
        page.get_by_label("范围（含下级）").select_option(label=f"　　{name}")
        page.get_by_role("button", name="添加", exact=True).click()
        expect(page.get_by_role("alert").first).to_contain_text("已添加 1 个考核对象")
    targets = page.get_by_test_id("targets")
    for name in BRANCHES.values():
        expect(targets).to_contain_text(name)
    expect(targets.locator("tbody tr")).to_have_count(3)

    # Reviewers: 王鸿波 works in 信息中心 and is refused as a whole; 王娟 takes all three.
    tab(page, "评审分工")
    page.get_by_label("评审员").select_option(label="王鸿波（信息中心党支部）")
    for name in BRANCHES.values():
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="分配", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "评审员“王鸿波”是考核对象“信息中心党支部”本单位的成员，须回避（不能评审本单位）"
    )
    expect(page.get_by_test_id("assignments")).not_to_contain_text("王鸿波")
    page.get_by_label("评审员").select_option(label="王娟（人事处党支部）")
    for name in BRANCHES.values():
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="分配", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("已为“王娟”分配 3 个考核对象")

    # Timeline: no ballots in this campaign (测评 off), deadlines; publish; open 自评.
    tab(page, "概况")
    page.get_by_label("启用测评").uncheck()
    for label, days in (("自评截止日期", 10), ("评审截止日期", 20), ("公示截止日期", 30)):
        page.get_by_label(label).fill((today + dt.timedelta(days=days)).isoformat())
    page.get_by_role("button", name="保存阶段安排").click()
    expect(page.get_by_role("alert").first).to_contain_text("阶段安排已保存")
    expect(page.get_by_test_id("transition")).to_have_text("发布活动")
    page.get_by_test_id("transition").click()
    expect(page.get_by_role("alert").first).to_contain_text("活动已进入“已发布”阶段")
    expect(page.get_by_test_id("rules")).to_contain_text("等次为“较好” → 具备评先评优资格")
    page.get_by_test_id("transition").click()
    expect(page.get_by_role("alert").first).to_contain_text("活动已进入“自评”阶段")
    expect(page.get_by_test_id("transition")).to_have_text("进入评审")

    # ---- 2. Units self-assess ----------------------------------------------------------
    by_code = {t.code: t for t in campaign.targets.all()}
    for code, unit in demo.items():
        if code == BROWSER_UNIT:
            fill_self(unit, by_code[code], skip=BROWSER_ROWS)
        else:
            fill_self(unit, by_code[code])
            self_services.submit(actor=unit, target=by_code[code])

    good = tmp_path / "贯彻落实工作报告.pdf"
    good.write_bytes(pdf_bytes("report"))
    fake = tmp_path / "会议通知.pdf"
    fake.write_bytes(ELF_BYTES)  # an executable renamed .pdf
    big = tmp_path / "扫描件.pdf"
    big.write_bytes(pdf_bytes("scan") + b"%" + b"0" * 8192)

    page.context.clear_cookies()
    login(page, f"tb{BROWSER_UNIT[2:]}", PASSWORD)
    page.get_by_role("link", name=f"{NAME}：填写并提交“档案馆党支部”的自评").click()
    expect(page.get_by_test_id("self-status")).to_have_text("填报中")
    expect(page.get_by_test_id("bounds-1.2")).to_have_text("0 至 4 分")

    r12 = row(page, "1.2")
    r12.get_by_label("1.2 自评分").fill("5")
    r12.get_by_label("1.2 情况说明").fill("及时传达学习上级部署，制定落实措施 6 项")
    page.get_by_role("button", name="保存 1.2").click()
    expect(row(page, "1.2").get_by_test_id("row-error")).to_have_text(
        "1.2 贯彻落实重大决策部署：自评分应在 0 至 4 分之间，不能填 5"
    )
    row(page, "1.2").get_by_label("1.2 自评分").fill("4")
    page.get_by_role("button", name="保存 1.2").click()
    expect(row(page, "1.2").get_by_test_id("row-notice")).to_have_text("已保存")

    for path, message in (
        (fake, "“会议通知.pdf”未能上传：文件内容是可执行程序，不能作为佐证材料上传"),
        (big, "“扫描件.pdf”未能上传：文件超过 4 KB 的大小限制"),
    ):
        row(page, "1.2").get_by_label("1.2 选择文件").set_input_files(str(path))
        page.get_by_role("button", name="上传 1.2").click()
        expect(row(page, "1.2").get_by_test_id("row-error")).to_contain_text(message)
    row(page, "1.2").get_by_label("1.2 选择文件").set_input_files(str(good))
    page.get_by_role("button", name="上传 1.2").click()
    expect(row(page, "1.2").get_by_test_id("row-notice")).to_have_text(
        "已上传：贯彻落实工作报告.pdf"
    )
    expect(row(page, "1.2").get_by_test_id("evidence-1.2")).to_contain_text("贯彻落实工作报告.pdf")

    # A bonus not claimed asks for no evidence (最多报一次: nothing to prove).
    rj = row(page, "J")
    expect(rj).to_contain_text("申报加分时需上传：表彰或推广文件")
    rj.get_by_label("J 情况说明").fill("本年度未获表彰")
    page.get_by_role("button", name="保存 J").click()
    expect(row(page, "J").get_by_test_id("row-notice")).to_have_text("已保存")
    expect(row(page, "J")).not_to_contain_text("还差")

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交自评").click()
    expect(page.get_by_test_id("self-status")).to_have_text("已提交")
    assert set(
        SelfAssessment.objects.filter(target__campaign=campaign).values_list("status", flat=True)
    ) == {AssessmentStatus.SUBMITTED}

    # ---- 3. Review -----------------------------------------------------------------------
    as_organizer(page)
    page.goto(f"/campaigns/{campaign.pk}/")
    tab(page, "进度")
    expect(page.get_by_test_id("self-percent")).to_have_text("100%")
    tab(page, "概况")
    page.get_by_test_id("transition").click()  # 进入评审: every unit submitted, no guard
    expect(page.get_by_role("alert").first).to_contain_text("活动已进入“评审”阶段")
    campaign.refresh_from_db()
    assert campaign.status == Stage.REVIEW

    reviewer = User.objects.get(username="reviewer")
    fill_review(reviewer, campaign, skip={(BROWSER_UNIT, c) for c in BROWSER_CELLS})
    page.context.clear_cookies()
    login(page, "reviewer", DEMO_PASSWORD)
    page.get_by_role("link", name=NAME).first.click()
    expect(page.get_by_test_id("sheet-status")).to_contain_text("评分中")
    first = page.get_by_label("档案馆党支部 1.2")
    first.click()
    first.fill("4")
    first.press("Enter")
    expect(cell(page, "档案馆党支部 1.2")).to_have_class(_has("kp-saved"))
    second = page.get_by_label("档案馆党支部 2.1")
    second.click()
    second.fill("5")
    second.press("Enter")
    expect(cell(page, "档案馆党支部 2.1").locator(".kp-err")).to_have_text("分数应在 0 至 3 之间")
    second.focus()
    second.fill("2")
    second.press("Enter")
    expect(cell(page, "档案馆党支部 2.1").locator(".kp-err")).to_contain_text("必须填写扣分理由")
    panel = page.get_by_test_id("review-panel")  # it turns to the cell that needs a reason
    expect(panel).to_contain_text("档案馆党支部 · 思想建设")
    expect(panel).to_contain_text("必须填写扣分理由")
    panel.get_by_label("扣分理由").fill("理论学习成果转化不足，缺少调研报告")
    panel.get_by_role("button", name="保存").click()
    expect(cell(page, "档案馆党支部 2.1")).to_have_class(_has("kp-saved"))
    page.reload()
    expect(page.get_by_label("档案馆党支部 2.1")).to_have_value("2")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交评分表").click()
    expect(page.get_by_test_id("sheet-status")).to_contain_text("已提交")

    # ---- 4. Quantitative data ----------------------------------------------------------
    as_organizer(page)
    page.goto(f"/campaigns/{campaign.pk}/")
    tab(page, "量化数据")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载模板").click()
    download = info.value
    assert download.suggested_filename == f"{NAME}_量化数据模板.xlsx"
    template = tmp_path / download.suggested_filename
    download.save_as(template)
    wb = load_workbook(template)
    ws = wb["量化数据"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["对象编码", "对象名称"] and len(header) == 6
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    assert set(rows) == set(BRANCHES)
    values = {"2.3": 0.95, "3.5": 1, "6.3": 0.99, "8.2": 0.9}
    for col, title in enumerate(header[2:], start=3):
        for r in rows.values():
            ws.cell(row=r, column=col, value=values[title.split()[0]])
    bad_col = header.index(next(h for h in header if h.startswith("3.5"))) + 1
    ws.cell(row=rows["ZB0602"], column=bad_col, value="九成五")
    bad = tmp_path / "量化数据.xlsx"
    wb.save(bad)
    page.get_by_label("导入文件").set_input_files(str(bad))
    page.get_by_role("button", name=IMPORT).click()
    errors = page.get_by_test_id("quant-errors")
    expect(errors).to_contain_text("文件中有 1 个问题，未导入任何数据")
    letter = "ABCDEF"[bad_col - 1]
    expect(errors.locator("tbody tr")).to_have_text(
        [f"第 {rows['ZB0602']} 行{letter} 列（3.5 党费收缴）“九成五”不是数字"]
    )
    assert not QuantValue.objects.filter(batch__campaign=campaign).exists()
    ws.cell(row=rows["ZB0602"], column=bad_col, value="96%")  # a rate typed as text
    fixed = tmp_path / "量化数据（改）.xlsx"
    wb.save(fixed)
    page.get_by_label("导入文件").set_input_files(str(fixed))
    page.get_by_role("button", name=IMPORT).click()
    expect(page.get_by_role("alert").first).to_contain_text("已导入 12 个数值")
    expect(page.get_by_test_id("quant-batches")).to_contain_text("量化数据（改）.xlsx")
    typed = QuantValue.objects.get(target=by_code["ZB0602"], indicator__code="3.5")
    assert typed.value == Decimal("0.96")  # the rule's scale is 0–1: 96% is 0.96, not 96

    # ---- 5. The dashboard ----------------------------------------------------------------
    tab(page, "进度")
    expect(page.get_by_test_id("self-percent")).to_have_text("100%")
    expect(page.get_by_test_id("review-percent")).to_have_text("100%")
    expect(page.get_by_test_id("quant-percent")).to_have_text("100%")
    expect(page.get_by_test_id("stage-self_assessment")).to_contain_text("3/3 个单位已提交自评")
    expect(page.get_by_test_id("stage-review")).to_contain_text("1/1 名评审员已提交评分表")
    expect(page.get_by_test_id("quant-count")).to_have_text("12/12 项")
    expect(page.get_by_test_id("progress-reviewers")).to_contain_text("已提交")

    # ---- 6. 汇总: compute, submit; the approver approves; 公示 -------------------------------
    tab(page, "概况")
    expect(page.get_by_test_id("transition")).to_have_text("进入汇总（跳过测评）")
    page.get_by_test_id("transition").click()
    expect(page.get_by_role("alert").first).to_contain_text("活动已进入“汇总”阶段")
    page.get_by_test_id("tab-results").click()
    page.get_by_label("计算原因").fill("评审和量化数据齐全，首次计算")
    page.get_by_test_id("compute").click()
    expect(page.get_by_text(re.compile("已完成第 1 次计算"))).to_be_visible()
    expect(page.get_by_test_id("ranking").get_by_test_id("row")).to_have_count(3)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("rs-card").get_by_test_id("rs-status")).to_have_text("待审批")

    page.context.clear_cookies()
    login(page, "approver", DEMO_PASSWORD)
    page.goto(f"/results/campaign/{campaign.pk}/")
    page.get_by_label("审批意见").fill("同意公示")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("rs-card").get_by_test_id("rs-status")).to_have_text("已审批")

    as_organizer(page)
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.get_by_test_id("transition")).to_have_text("进入公示")
    page.get_by_test_id("transition").click()
    expect(page.get_by_role("alert").first).to_contain_text("活动已进入“公示”阶段")

    # ---- 7. 档案馆 appeals its 2.1; the organizer upholds it ------------------------------
    archive_unit = by_code[BROWSER_UNIT]
    before = TargetResult.objects.get(target=archive_unit, result_set__is_current=True)
    assert before.indicators["2.1"] == pytest.approx(2)
    proof = tmp_path / "理论学习调研报告.pdf"
    proof.write_bytes(pdf_bytes("research"))
    page.context.clear_cookies()
    login(page, f"tb{BROWSER_UNIT[2:]}", PASSWORD)
    page.get_by_role("link", name="我的考核结果").first.click()
    # (the unit also sees its secretary's 述职评议 result: the row of this campaign)
    mine = page.get_by_test_id("my-results").locator("tr").filter(has_text=NAME)
    mine.get_by_role("link", name="查看详情").click()
    expect(page.get_by_test_id("total")).to_have_text(f"{before.total:.2f}")
    page.get_by_test_id("appeal-link").click()
    page.get_by_label("申诉涉及的指标").select_option("2.1")
    page.get_by_label("申诉理由").fill("本支部已形成理论学习调研报告 2 篇，评审时未看到，请求复核")
    page.get_by_label("佐证材料（可多选）").set_input_files(str(proof))
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_test_id("appeal-status")).to_have_text("待处理")

    as_organizer(page)
    page.goto(f"/campaigns/{campaign.pk}/")
    tab(page, "申诉")
    page.get_by_test_id(f"appeal-{BROWSER_UNIT}").get_by_role("link", name="处理").click()
    correction = page.get_by_test_id("correction-2.1")
    correction.get_by_label("更正后的评分").fill("3")
    correction.get_by_label("更正理由").fill("调研报告齐全，成果转化到位")
    page.get_by_role("button", name="申诉成立，更正并重新计算").click()
    expect(page.get_by_test_id("appeal-status")).to_have_text("申诉成立")
    after = TargetResult.objects.get(target=archive_unit, result_set__is_current=True)
    assert after.total == pytest.approx(before.total + 1)
    expect(page.get_by_test_id("diff-own")).to_contain_text(
        f"{before.total:.2f} → {after.total:.2f}"
    )

    # ---- 8. 归档: the results lock; the archive re-scores to the stored numbers ----------
    tab(page, "概况")
    expect(page.get_by_test_id("transition")).to_have_text("归档")
    page.get_by_test_id("transition").click()
    expect(page.get_by_test_id("guard")).to_contain_text("提前结束后将不能再提出申诉")
    page.get_by_test_id("confirm").click()
    expect(page.get_by_role("alert").first).to_contain_text("活动已进入“归档”阶段")
    rs = results_services.current_set(campaign)
    assert rs.status == ResultStatus.FINAL and rs.number == 2
    out = tmp_path / "archive.json"
    call_command("campaign", "archive", str(campaign.pk), str(out))
    rescored = tmp_path / "rescored.json"
    assert kaoping_main(["kaoping", "evaluate", str(out), "--out", str(rescored)]) == 0
    totals = {r["target"]: r["total"] for r in json.loads(rescored.read_text())["results"]}
    stored = {r.target.code: r.total for r in rs.results.select_related("target")}
    assert totals == pytest.approx(stored)

    # ---- 9. 整改: proposals, the unit completes, the organizer verifies ------------------
    page.goto(f"/campaigns/{campaign.pk}/")
    tab(page, "整改")
    page.get_by_test_id("propose").click()
    expect(page.locator(".alert-success")).to_contain_text("新生成整改建议")
    row_ = page.get_by_test_id("task-row").filter(has_text="档案馆党支部").filter(has_text="申诉")
    row_.get_by_role("checkbox").check()
    page.get_by_test_id("confirm").click()
    expect(page.locator(".alert-success")).to_contain_text("已确认下达 1 项整改任务")
    task = RectificationTask.objects.get(campaign=campaign, source_kind="appeal")

    page.context.clear_cookies()
    login(page, f"tb{BROWSER_UNIT[2:]}", PASSWORD)
    page.goto(f"/rectification/task/{task.pk}/")
    page.get_by_label("整改措施").fill("建立评审材料清单，报送前由支委会逐项核对")
    page.get_by_role("button", name="保存整改措施").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存整改措施")
    page.get_by_label("整改完成情况").fill("材料清单已建立，下一轮报送按清单核对")
    page.locator("#s-files").set_input_files(str(proof))
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("task-status")).to_have_text("完成待验收")

    as_organizer(page)
    page.goto(f"/rectification/task/{task.pk}/")
    page.get_by_label("销号意见").fill("整改到位，予以销号")
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("task-status")).to_have_text("已销号")

    # ---- 10. The next cycle: the 2026 annual campaign lists it under 上期整改 --------------
    page.context.clear_cookies()
    login(page, "organizer", DEMO_PASSWORD)
    annual = Campaign.objects.get(name=ANNUAL_NAME)
    page.goto(f"/rectification/campaign/{annual.pk}/previous/")
    prev = (
        page.get_by_test_id("previous-row").filter(has_text="档案馆党支部").filter(has_text="申诉")
    )
    expect(prev.get_by_test_id("task-status")).to_have_text("已销号")


def _has(cls):
    return re.compile(rf"(^|\s){cls}(\s|$)")
