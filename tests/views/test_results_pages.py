"""The result pages: compute from the page (a job with progress), the ranking (sorted, filtered,
by role), submit / approve / return, the changes of a recompute, a target's explanation, the
Excel export, and who sees what (404 outside scope)."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Stage
from kaoping.collection.models import Evidence, EvidenceFile, ReviewScore, SelfAssessmentItem
from kaoping.jobs.models import Job
from kaoping.results import services
from kaoping.results.models import InputCorrection, ResultSet, ResultStatus, TargetResult

from ..factories import UserFactory, grant
from ..results_fixtures import scored_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    return scored_campaign(tree, organizer)


def _url(name, campaign, *args):
    return reverse(f"results:{name}", args=[campaign.pk, *args])


def _computed(setup, organizer):
    rs, _ = services.compute(actor=organizer, campaign=setup.campaign, reason="首次计算")
    return rs


def _published(setup, organizer):
    _computed(setup, organizer)
    services.submit(actor=organizer, campaign=setup.campaign)
    services.approve(actor=setup.extra["approver"], campaign=setup.campaign)
    with transaction.atomic():
        return services.start_publication(actor=organizer, campaign=setup.campaign)


def _codes(response):
    return [r.target.code for r in response.context["page_obj"]]


# ---- compute through the page ------------------------------------------------------------------


def test_compute_from_the_page_runs_the_job_and_shows_the_result(
    client, setup, organizer, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    page = client.get(_url("ranking", setup.campaign))
    assert page.status_code == 200 and b'data-testid="compute"' in page.content
    assert "尚未计算考核结果" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("compute", setup.campaign), {"reason": "评审结束"}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    job = Job.objects.get(kind="results.compute")
    assert job.params["campaign"] == setup.campaign.pk and job.params["reason"] == "评审结束"
    assert f"/compute/{job.pk}/" in response.content.decode()  # polls its progress
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    done = client.get(_url("compute_status", setup.campaign, job.pk), HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    page = client.get(_url("ranking", setup.campaign))
    html = page.content.decode()
    assert "已完成第 1 次计算" in html
    rs = ResultSet.objects.get(campaign=setup.campaign)
    assert rs.reason == "评审结束" and rs.computed_by == organizer
    assert sorted(_codes(page)) == sorted(t.code for t in setup.targets.values())
    assert rs.fingerprint[:12] in html and 'data-testid="history"' in html
    assert json.loads(page.context["chart"] and json.dumps(page.context["chart"]))["labels"]


def test_compute_progress_while_running_and_failure_in_chinese(client, setup, organizer):
    client.force_login(organizer)
    job = Job.objects.create(
        kind="results.compute", created_by=organizer, params={"campaign": setup.campaign.pk},
        status="running", progress_done=1, progress_total=3, stage="计算",
    )  # fmt: skip
    page = client.get(_url("ranking", setup.campaign))
    assert page.context["job"] == job and "正在计算" in page.content.decode()
    # a second compute is refused while one runs
    client.post(_url("compute", setup.campaign))
    assert Job.objects.filter(kind="results.compute").count() == 1
    poll = client.get(_url("compute_status", setup.campaign, job.pk), HTTP_HX_REQUEST="true")
    assert "33%" in poll.content.decode() and "hx-get" in poll.content.decode()
    # another organizer of the campaign follows the same job
    colleague = UserFactory(username="colleague")
    grant(colleague, Role.ASSESSMENT_ADMIN, setup.campaign.owner)
    client.force_login(colleague)
    assert client.get(_url("compute_status", setup.campaign, job.pk)).status_code == 200
    other = Job.objects.create(kind="org.import", created_by=colleague, params={"campaign": 1})
    assert client.get(_url("compute_status", setup.campaign, other.pk)).status_code == 404
    client.force_login(organizer)
    Job.objects.filter(pk=job.pk).update(
        status="failed", error="['只有在“汇总”或“公示”阶段才能计算考核结果']"
    )
    poll = client.get(_url("compute_status", setup.campaign, job.pk), HTTP_HX_REQUEST="true")
    text = poll.content.decode()
    assert "计算失败：只有在“汇总”或“公示”阶段才能计算考核结果" in text and "['" not in text


def test_compute_refused_in_the_wrong_stage_and_when_locked(client, setup, organizer):
    client.force_login(organizer)
    setup.campaign.status = Stage.REVIEW
    setup.campaign.save()
    page = client.get(_url("ranking", setup.campaign))
    assert "只有在“汇总”或“公示”阶段才能计算考核结果" in page.content.decode()
    response = client.post(_url("compute", setup.campaign), follow=True)
    assert "只有在“汇总”或“公示”阶段才能计算考核结果" in response.content.decode()
    assert not Job.objects.exists()
    setup.campaign.status = Stage.PUBLICATION
    setup.campaign.save()
    _published(setup, organizer)
    with transaction.atomic():
        services.lock(actor=organizer, campaign=setup.campaign)
    response = client.post(_url("compute", setup.campaign), HTTP_HX_REQUEST="true")
    assert "考核结果已锁定，不能重新计算" in response.content.decode()
    assert not Job.objects.exists()


def test_only_those_who_run_the_campaign_compute_submit(client, setup, sub_organizer):
    client.force_login(sub_organizer)  # sees the campaign (targets in 第一党总支), does not run it
    assert client.get(_url("ranking", setup.campaign)).status_code == 200
    for name in ("compute", "submit"):
        assert client.post(_url(name, setup.campaign)).status_code == 403
    assert not Job.objects.exists()


# ---- the ranking -------------------------------------------------------------------------------


def test_ranking_sorts_filters_and_answers_htmx_with_the_table(client, setup, organizer):
    rs = _computed(setup, organizer)
    client.force_login(organizer)
    url = _url("ranking", setup.campaign)
    by_total = sorted(rs.results.select_related("target"), key=lambda r: r.total)
    page = client.get(url, {"sort": "total"})
    assert _codes(page) == [r.target.code for r in by_total]
    page = client.get(url, {"sort": "-total"})
    assert _codes(page) == [r.target.code for r in reversed(by_total)]
    page = client.get(url, {"group": "ZZ1"})
    assert sorted(_codes(page)) == ["ZB11", "ZB12"]
    page = client.get(url, {"q": "法规"})
    assert _codes(page) == ["ZB21"]
    page = client.get(url, {"q": "zb12"})
    assert _codes(page) == ["ZB12"]
    a1 = TargetResult.objects.get(result_set=rs, target=setup.targets["a1"])
    TargetResult.objects.filter(pk=a1.pk).update(flags=["veto", "incomplete"])
    page = client.get(url, {"flag": "veto"})
    assert _codes(page) == ["ZB11"] and "一票否决" in page.content.decode()
    assert "数据不全" in page.content.decode()
    page = client.get(url, {"flag": "none"})
    assert "ZB11" not in _codes(page) and len(_codes(page)) == 2
    grade = by_total[-1].grade
    page = client.get(url, {"grade": grade})
    assert by_total[-1].target.code in _codes(page)
    assert all(r.grade == grade for r in page.context["page_obj"])
    partial = client.get(
        url, {"sort": "name"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ranking-table"
    )
    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="ranking-table"') and "<html" not in html
    page = client.get(url, {"sort": "nonsense", "flag": "<script>"})
    assert page.status_code == 200 and page.context["filters"].sort == "rank"


def test_ranking_shows_grade_distribution_dimension_means_and_status(client, setup, organizer):
    rs = _computed(setup, organizer)
    client.force_login(organizer)
    page = client.get(_url("ranking", setup.campaign))
    html = page.content.decode()
    assert 'id="kp-grade-data"' in html and "vendor/echarts/echarts.min.js" in html
    dims = page.context["dimensions"]
    assert [d["name"] for d in dims] == ["政治建设", "组织建设"]
    assert dims[0]["points"] == 40 and dims[1]["points"] == 60
    assert dims[0]["mean"] == pytest.approx(rs.summary["dimension_means"]["1"])
    assert "待提交" in html and 'data-testid="submit"' in html
    assert rs.engine_version in html


def test_approver_sees_results_once_submitted_and_approves_or_returns(client, setup, organizer):
    approver = setup.extra["approver"]
    _computed(setup, organizer)
    client.force_login(approver)
    # a leader with approval rights opens the campaign and reaches the results tab
    detail = client.get(reverse("campaigns:detail", args=[setup.campaign.pk]))
    assert detail.status_code == 200 and _url("ranking", setup.campaign) in detail.content.decode()
    page = client.get(_url("ranking", setup.campaign))
    assert page.status_code == 200 and _codes(page) == []
    assert "提交审批后可查看" in page.content.decode()
    assert client.post(_url("approve", setup.campaign), follow=True).status_code == 200
    assert ResultSet.objects.get().status == ResultStatus.DRAFT  # nothing to approve yet

    client.force_login(organizer)
    response = client.post(_url("submit", setup.campaign), follow=True)
    assert "已提交审批" in response.content.decode()
    assert ResultSet.objects.get().status == ResultStatus.SUBMITTED
    assert client.post(_url("approve", setup.campaign)).status_code == 403  # no approval rights

    client.force_login(approver)
    home = client.get(reverse("core:home"))
    assert "审批第 1 次计算的考核结果" in home.content.decode()
    page = client.get(_url("ranking", setup.campaign))
    assert len(_codes(page)) == 3 and 'data-testid="approve"' in page.content.decode()
    response = client.post(_url("return", setup.campaign), {"comment": "  "}, follow=True)
    assert "请填写退回理由" in response.content.decode()
    assert ResultSet.objects.get().status == ResultStatus.SUBMITTED
    response = client.post(_url("return", setup.campaign), {"comment": "b1 的量化数据请核实"},
                           follow=True)  # fmt: skip
    assert ResultSet.objects.get().status == ResultStatus.DRAFT
    assert AuditEntry.objects.filter(action="result.return").exists()

    client.force_login(organizer)
    page = client.get(_url("ranking", setup.campaign))
    assert "已退回：" in page.content.decode() and "b1 的量化数据请核实" in page.content.decode()
    client.post(_url("submit", setup.campaign))
    client.force_login(approver)
    response = client.post(_url("approve", setup.campaign), {"comment": "同意"}, follow=True)
    assert "已审批通过" in response.content.decode()
    rs = ResultSet.objects.get()
    assert rs.status == ResultStatus.APPROVED and rs.approved_by == approver
    assert "党委书记王" in response.content.decode()  # who approved


def test_who_sees_which_rows_once_published(client, tree, setup, organizer, outsider):
    rs = _published(setup, organizer)
    url = _url("ranking", setup.campaign)
    a1, a2, b1 = (setup.targets[k] for k in ("a1", "a2", "b1"))
    # a target's own unit: sent to its own result; other targets are 404
    client.force_login(setup.submitters["a1"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == _url("target", setup.campaign, a1.pk)
    assert client.get(_url("target", setup.campaign, a1.pk)).status_code == 200
    assert client.get(_url("target", setup.campaign, a2.pk)).status_code == 404
    assert client.get(_url("changes", setup.campaign, rs.number)).status_code == 200
    # a leader of 第一党总支: the subtree
    leader = UserFactory(username="leader_a", full_name="一总支书记")
    grant(leader, Role.LEADER, tree["a"])
    client.force_login(leader)
    page = client.get(url)
    assert sorted(_codes(page)) == [a1.code, a2.code] and "history" not in page.context
    assert client.get(_url("target", setup.campaign, b1.pk)).status_code == 404
    assert client.get(_url("submit", setup.campaign)).status_code == 405
    assert client.post(_url("approve", setup.campaign)).status_code == 403
    # an organizer of 第二党总支 (not running the campaign): no rows; others' targets 404
    client.force_login(outsider)
    assert client.get(_url("target", setup.campaign, a1.pk)).status_code == 404


def test_nothing_before_publication_for_targets_and_outside_scope(
    client, tree, setup, organizer, norole
):
    _computed(setup, organizer)
    a1 = setup.targets["a1"]
    client.force_login(setup.submitters["a1"])
    page = client.get(_url("ranking", setup.campaign))
    assert page.status_code == 200 and _codes(page) == []
    assert client.get(_url("target", setup.campaign, a1.pk)).status_code == 404
    assert client.get(_url("changes", setup.campaign, 1)).status_code == 404
    assert client.get(_url("export", setup.campaign)).status_code == 404
    client.force_login(norole)
    assert client.get(_url("ranking", setup.campaign)).status_code == 403
    other = UserFactory(username="other_unit")
    grant(other, Role.SUBMITTER, tree["b2"])  # b2 is not a target of this campaign
    client.force_login(other)
    assert client.get(_url("ranking", setup.campaign)).status_code == 404


# ---- changes -----------------------------------------------------------------------------------


def test_changes_page_after_a_second_compute(client, setup, organizer):
    first = _computed(setup, organizer)
    a1, b1 = setup.targets["a1"], setup.targets["b1"]
    ReviewScore.objects.filter(target=a1, indicator=setup.indicators["1.1"]).update(
        score=Decimal(10)
    )
    InputCorrection.objects.create(
        campaign=setup.campaign, target=b1, indicator_code="2.1", value=Decimal(95),
        reason="统计口径有误", created_by=organizer,
    )  # fmt: skip
    second, created = services.compute(actor=organizer, campaign=setup.campaign, reason="复核")
    assert created and second.number == 2
    client.force_login(organizer)
    page = client.get(_url("changes", setup.campaign, 2))
    html = page.content.decode()
    assert page.status_code == 200
    assert "评审评分与自评有变化" in html and "统计口径有误" in html
    rows = {t["target"]: t for t in page.context["ch"]["targets"]}
    assert set(rows) >= {a1.code, b1.code}
    assert rows[a1.code]["delta"] == pytest.approx(2)
    assert "1.1 学习贯彻党的创新理论" in html
    first_page = client.get(_url("changes", setup.campaign, first.number))
    assert "首次计算" in first_page.content.decode()
    ranking = client.get(_url("ranking", setup.campaign))
    assert _url("changes", setup.campaign, 2) in ranking.content.decode()
    assert client.get(_url("changes", setup.campaign, 9)).status_code == 404


# ---- one target --------------------------------------------------------------------------------


def test_target_page_traces_every_point_to_its_inputs(client, tree, setup, organizer):
    a1, b1 = setup.targets["a1"], setup.targets["b1"]
    ReviewScore.objects.filter(target=a1, indicator=setup.indicators["1.3"]).update(
        reason="3 月未召开支委会"
    )
    stored = EvidenceFile.objects.create(sha256="0" * 64, file="evidence/x.pdf", size=10,
                                         content_type="application/pdf")  # fmt: skip
    ev = Evidence.objects.create(organization=tree["a1"], file=stored, name="学习记录.pdf")
    SelfAssessmentItem.objects.get(
        assessment__target=a1, indicator=setup.indicators["1.1"]
    ).evidence.add(ev)
    InputCorrection.objects.create(
        campaign=setup.campaign, target=b1, indicator_code="2.1", value=Decimal(90),
        reason="组织部复核数据", created_by=organizer,
    )  # fmt: skip
    _computed(setup, organizer)
    client.force_login(organizer)
    page = client.get(_url("target", setup.campaign, a1.pk))
    html = page.content.decode()
    assert page.status_code == 200
    tr = page.context["tr"]
    assert f"{tr.total:.2f}" in html
    tree_ = page.context["tree"]
    assert [d["code"] for d in tree_["children"] if not d["special"]] == ["1", "2"]
    # reviewer scores with reasons (names shown to those who run it)
    assert "3 月未召开支委会" in html and "评审员赵" in html
    assert "未按时召开支委会 × 1" in html
    # self-assessment with evidence (link to the preview view) — the reviewer's score counts
    assert reverse("collection:evidence_preview", args=[ev.pk]) in html
    assert "有评审评分时以评审评分为准" in html
    assert reverse("collection:self_form", args=[setup.campaign.pk, a1.pk]) in html
    # quantitative value with its source
    assert "组织部统计" in html
    # the radar: dimensions as percentages of their points (40 and 60 differ)
    radar = json.loads(page.context["radar"] and json.dumps(page.context["radar"]))
    assert radar["percent"] is True and len(radar["target"]) == 2
    assert radar["target"][0] == pytest.approx(round(100 * tr.dimensions["1"] / 40, 1))
    assert 'id="kp-radar-data"' in html
    page = client.get(_url("target", setup.campaign, b1.pk))
    html = page.content.decode()
    assert "获市级先进基层党组织表彰" in html  # the daily record behind 2.2
    assert "组织部复核数据" in html  # the correction of 2.1
    assert "没有同类考核的已锁定结果" in html


def test_target_sees_own_explanation_without_reviewer_names(client, setup, organizer):
    _published(setup, organizer)
    client.force_login(setup.submitters["a1"])
    page = client.get(_url("target", setup.campaign, setup.targets["a1"].pk))
    html = page.content.decode()
    assert page.status_code == 200 and "评审员 1" in html and "评审员赵" not in html


# ---- export ------------------------------------------------------------------------------------


def test_excel_export_of_the_ranking_is_audited(client, setup, organizer):
    rs = _computed(setup, organizer)
    client.force_login(organizer)
    response = client.get(_url("export", setup.campaign), {"group": "ZZ1"})
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[2][:7] == ("排名", "编码", "考核对象", "所属党组织", "总分", "等次", "组内排名")
    assert sorted(r[1] for r in rows[3:]) == ["ZB11", "ZB12"]
    entry = AuditEntry.objects.get(action="data.export", object_id=str(rs.pk))
    assert entry.data["rows"] == 2
