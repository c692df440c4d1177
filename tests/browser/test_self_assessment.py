"""A unit fills in its self-assessment in the browser: an out-of-bounds score is refused in
Chinese, a real PDF is uploaded, an executable renamed .pdf and an oversized file are refused
with clear messages, the PDF is reused on another indicator without uploading it again, the
form is submitted; the organizer returns it with a comment; the unit reads the comment, corrects
and resubmits."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kaoping.accounts.models import Role
from kaoping.collection.models import AssessmentStatus, Evidence, EvidenceFile, SelfAssessment

from ..collection_fixtures import campaign_in_self_assessment
from ..evidence_samples import ELF_BYTES, pdf_bytes
from ..factories import PASSWORD, UserFactory, grant, make_tree
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(db):
    tree = make_tree()
    organizer = UserFactory(username="zhang", full_name="张组织")
    grant(organizer, Role.ASSESSMENT_ADMIN, tree["root"])
    s = campaign_in_self_assessment(tree, organizer=organizer)
    s.extra["organizer"] = organizer
    return s


def row(page, code):
    return page.get_by_test_id(f"row-{code}")


def save_row(page, code):
    page.get_by_role("button", name=f"保存 {code}").click()


def test_fill_upload_reuse_submit_return_resubmit(page, setup, settings, tmp_path):
    settings.KAOPING_EVIDENCE_MAX_BYTES = 4096
    good = tmp_path / "会议记录.pdf"
    good.write_bytes(pdf_bytes("meeting"))
    fake = tmp_path / "通知.pdf"
    fake.write_bytes(ELF_BYTES)  # an executable renamed .pdf
    big = tmp_path / "扫描件.pdf"
    big.write_bytes(pdf_bytes("big") + b"%" + b"0" * 8192)

    submitter = setup.submitters["a1"]
    target = setup.targets["a1"]
    form_url = reverse("collection:self_form", args=[setup.campaign.pk, target.pk])
    login(page, submitter.username, PASSWORD)
    page.goto(form_url)
    expect(page.get_by_test_id("self-status")).to_have_text("填报中")
    expect(page.get_by_test_id("bounds-1.1")).to_have_text("0 至 10 分")
    # The system's own data is shown, not asked.
    expect(page.get_by_test_id("held-2.1")).to_contain_text("待导入量化数据")

    # An out-of-bounds score: refused in Chinese, the typed value kept.
    r11 = row(page, "1.1")
    r11.get_by_label("1.1 自评分").fill("12")
    r11.get_by_label("1.1 情况说明").fill("全年开展理论学习 12 次")
    save_row(page, "1.1")
    expect(row(page, "1.1").get_by_test_id("row-error")).to_have_text(
        "1.1 学习贯彻党的创新理论：自评分应在 0 至 10 分之间，不能填 12"
    )
    expect(row(page, "1.1").get_by_label("1.1 自评分")).to_have_value("12")
    row(page, "1.1").get_by_label("1.1 自评分").fill("9")
    save_row(page, "1.1")
    expect(row(page, "1.1").get_by_test_id("row-notice")).to_have_text("已保存")
    expect(row(page, "1.1")).to_contain_text("已填")

    # Bad uploads, then the real PDF.
    row(page, "1.1").get_by_label("1.1 选择文件").set_input_files(str(fake))
    page.get_by_role("button", name="上传 1.1").click()
    expect(row(page, "1.1").get_by_test_id("row-error")).to_contain_text(
        "“通知.pdf”未能上传：文件内容是可执行程序，不能作为佐证材料上传"
    )
    row(page, "1.1").get_by_label("1.1 选择文件").set_input_files(str(big))
    page.get_by_role("button", name="上传 1.1").click()
    expect(row(page, "1.1").get_by_test_id("row-error")).to_contain_text(
        "“扫描件.pdf”未能上传：文件超过 4 KB 的大小限制"
    )
    assert not EvidenceFile.objects.exists()
    row(page, "1.1").get_by_label("1.1 选择文件").set_input_files(str(good))
    page.get_by_role("button", name="上传 1.1").click()
    expect(row(page, "1.1").get_by_test_id("row-notice")).to_have_text("已上传：会议记录.pdf")
    chip = row(page, "1.1").get_by_test_id("evidence-1.1").get_by_role("link", name="会议记录.pdf")
    expect(chip).to_be_visible()
    preview = page.request.get(chip.get_attribute("href"))
    assert preview.status == 200
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-disposition"].startswith("inline")
    assert preview.body() == good.read_bytes()

    # Grade and counts.
    row(page, "1.2").get_by_label("1.2 等次").select_option("较好")
    save_row(page, "1.2")
    expect(row(page, "1.2").get_by_test_id("row-notice")).to_have_text("已保存")
    row(page, "1.3").get_by_label("1.3 未按时召开支委会 次数").fill("1")
    save_row(page, "1.3")
    expect(row(page, "1.3").get_by_test_id("row-notice")).to_have_text("已保存")

    # Reuse the uploaded PDF on another indicator (最多报一次).
    page.get_by_role("button", name="2.3 从已有材料选择").click()
    library = page.get_by_test_id("library-2.3")
    library.get_by_label("2.3 搜索已有材料").fill("会议")
    expect(library.get_by_role("link", name="会议记录.pdf")).to_be_visible()
    page.get_by_test_id("library-2.3").get_by_role("button", name="选用 会议记录.pdf").click()
    expect(row(page, "2.3").get_by_test_id("row-notice")).to_contain_text(
        "已选用：会议记录.pdf（未重复上传）"
    )
    expect(row(page, "2.3").get_by_test_id("evidence-2.3")).to_contain_text("会议记录.pdf")
    assert EvidenceFile.objects.count() == 1 and Evidence.objects.count() == 1
    row(page, "2.3").get_by_label("2.3 自评分").fill("36")
    save_row(page, "2.3")
    expect(row(page, "2.3").get_by_test_id("row-notice")).to_have_text("已保存")

    # Submit.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交自评").click()
    expect(page.get_by_test_id("self-status")).to_have_text("已提交")
    expect(page.get_by_role("button", name="保存 1.1")).to_have_count(0)

    # The organizer returns it with a comment.
    page.context.clear_cookies()
    login(page, "zhang", PASSWORD)
    page.goto(reverse("collection:self_overview", args=[setup.campaign.pk]))
    page.get_by_test_id(f"overview-{target.code}").get_by_role("link", name="审核").click()
    expect(page.get_by_test_id("value-1.1")).to_have_text("9 分")
    page.get_by_role("button", name="退回修改").click()
    expect(page.get_by_role("alert")).to_contain_text("请填写退回意见")
    page.get_by_label("退回意见").fill("1.1 的得分与学习记录不符，请核实")
    page.get_by_role("button", name="退回修改").click()
    expect(page.get_by_test_id("self-status")).to_have_text("已退回")

    # The unit reads the comment, corrects and resubmits.
    page.context.clear_cookies()
    login(page, submitter.username, PASSWORD)
    page.goto(form_url)
    expect(page.get_by_test_id("return-comment")).to_contain_text(
        "退回意见：1.1 的得分与学习记录不符，请核实"
    )
    row(page, "1.1").get_by_label("1.1 自评分").fill("8")
    save_row(page, "1.1")
    expect(row(page, "1.1").get_by_test_id("row-notice")).to_have_text("已保存")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交自评").click()
    expect(page.get_by_test_id("self-status")).to_have_text("已提交")
    assessment = SelfAssessment.objects.get(target=target)
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert str(assessment.items.get(indicator=setup.indicators["1.1"]).score) == "8.00"
