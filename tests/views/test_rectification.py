"""整改 pages: the campaign list (generate, filters, counts, bulk review, export), a task's page
and its forms for the responsible person, the unit and the organizer, 我的整改任务, 上期整改,
the link beside the 述职 report; everyone else gets 403/404."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Target
from kaoping.rectification import services
from kaoping.rectification.models import RectificationTask, TaskStatus

from ..rectification_fixtures import approved_results, next_campaign

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def setup(tree, organizer):
    return approved_results(tree, organizer)


def _url(name, *args):
    return reverse(f"rectification:{name}", args=args)


def _proposed(setup, organizer):
    services.propose_from_results(actor=organizer, result_set=setup.extra["result_set"])
    return {
        (t.organization.code, t.source_kind, t.source_ref): t
        for t in RectificationTask.objects.filter(campaign=setup.campaign).select_related(
            "organization"
        )
    }


def test_organizer_generates_reviews_and_confirms_proposals(client, setup, organizer):
    client.force_login(organizer)
    page = client.get(_url("campaign", setup.campaign.pk))
    assert page.status_code == 200 and "根据考核结果生成整改建议" in page.content.decode()
    response = client.post(_url("propose", setup.campaign.pk), follow=True)
    body = response.content.decode()
    assert "新生成整改建议 5 项" in body and "“严格党的组织生活”扣 1 分" in body
    tasks = list(RectificationTask.objects.filter(campaign=setup.campaign).order_by("pk"))
    response = client.post(
        _url("bulk", setup.campaign.pk),
        {"action": "confirm", "task": [tasks[0].pk, tasks[1].pk]},
        follow=True,
    )
    assert "已确认下达 2 项整改任务" in response.content.decode()
    response = client.post(
        _url("bulk", setup.campaign.pk),
        {"action": "drop", "task": [tasks[2].pk], "reason": "重复"},
        follow=True,
    )
    assert "已撤销 1 项整改建议" in response.content.decode()
    statuses = list(
        RectificationTask.objects.filter(pk__in=[t.pk for t in tasks[:3]])
        .order_by("pk")
        .values_list("status", flat=True)
    )
    assert statuses == ["open", "open", "cancelled"]
    # confirming one again is refused with the reason
    response = client.post(
        _url("bulk", setup.campaign.pk), {"action": "confirm", "task": [tasks[0].pk]}, follow=True
    )
    assert "已是“整改中”" in response.content.decode()


def test_filters_counts_and_overdue_badge(client, setup, organizer):
    tasks = _proposed(setup, organizer)
    task = tasks[("ZB21", "weak", "2.1")]
    services.confirm(actor=organizer, tasks=[task])
    RectificationTask.objects.filter(pk=task.pk).update(deadline=dt.date(2026, 1, 31))
    client.force_login(organizer)
    body = client.get(_url("campaign", setup.campaign.pk) + "?overdue=1").content.decode()
    assert body.count('data-testid="task-row"') == 1 and 'data-testid="overdue"' in body
    assert "逾期 1" in body and "待确认 4" in body
    body = client.get(
        _url("campaign", setup.campaign.pk)
        + f"?status=proposed&org={setup.targets['a1'].organization_id}"
    ).content.decode()
    assert body.count('data-testid="task-row"') == 1 and "严格党的组织生活" in body
    body = client.get(_url("campaign", setup.campaign.pk) + "?source=grade").content.decode()
    assert body.count('data-testid="task-row"') == 1


def test_excel_export_is_audited(client, setup, organizer):
    _proposed(setup, organizer)
    client.force_login(organizer)
    response = client.get(_url("export", setup.campaign.pk) + "?source=weak")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb["整改任务清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "来源活动", "整改单位") and len(rows) == 4
    assert {r[4] for r in rows[1:]} == {"薄弱指标"}
    entry = AuditEntry.objects.get(action="data.export", object_id=str(setup.campaign.pk))
    assert entry.data == {"what": "整改任务清单", "rows": 3}


def test_responsible_person_reports_and_organizer_verifies(client, setup, organizer):
    task = _proposed(setup, organizer)[("ZB11", "deduction", "1.3")]
    services.confirm(actor=organizer, tasks=[task])
    secretary = setup.extra["secretaries"]["a1"][1]  # an account with no role, only a person
    client.force_login(secretary)
    mine = client.get(_url("mine")).content.decode()
    assert "严格党的组织生活" in mine and mine.count('data-testid="task-row"') == 1
    detail = client.get(_url("detail", task.pk)).content.decode()
    assert "报告整改进展" in detail and "党支部书记（第一责任人）" in detail
    assert "无分管班子成员" in detail
    r = client.post(_url("submit", task.pk), {"completion": "完成"}, follow=True)
    assert "请先填写整改措施" in r.content.decode()
    client.post(_url("plan", task.pk), {"plan": "建立提醒制度"})
    r = client.post(
        _url("progress", task.pk),
        {"text": "补开支委会", "date": "2026-11-01",
         "files": [SimpleUploadedFile("记录.pdf", PDF, content_type="application/pdf")]},
        follow=True,
    )  # fmt: skip
    assert "已记录整改进展" in r.content.decode()
    r = client.post(_url("progress", task.pk), {"text": "x", "date": "2099-01-01"}, follow=True)
    assert "进展日期不能晚于今天" in r.content.decode()
    r = client.post(
        _url("submit", task.pk),
        {"completion": "按月召开",
         "files": [SimpleUploadedFile("完成.pdf", PDF + b"1", content_type="application/pdf")]},
        follow=True,
    )  # fmt: skip
    assert "已提交整改完成情况，等待验收" in r.content.decode()
    ev = RectificationTask.objects.get(pk=task.pk).evidence.get()
    file = client.get(_url("evidence", task.pk, ev.pk))
    assert file.status_code == 200 and file["Content-Type"] == "application/pdf"
    assert client.post(_url("verify", task.pk)).status_code == 403
    client.force_login(organizer)
    r = client.post(_url("verify", task.pk), {"comment": "整改到位"}, follow=True)
    assert "已销号" in r.content.decode()
    assert RectificationTask.objects.get(pk=task.pk).status == TaskStatus.VERIFIED


def test_organizer_edits_and_returns(client, setup, organizer):
    task = _proposed(setup, organizer)[("ZB11", "deduction", "1.3")]
    client.force_login(organizer)
    page = client.get(_url("edit", task.pk))
    assert page.status_code == 200 and "办公室书记" in page.content.decode()
    r = client.post(
        _url("edit", task.pk), {"problem": "", "deadline": "2020-01-01", "responsible": ""}
    )
    body = r.content.decode()
    assert r.status_code == 200 and 'data-field-error="problem"' in body
    r = client.post(
        _url("edit", task.pk),
        {"problem": "支委会未按月召开", "deadline": "2020-01-01",
         "responsible": task.responsible_id},
    )  # fmt: skip
    assert "整改期限不能早于今天" in r.content.decode()
    r = client.post(
        _url("edit", task.pk),
        {"problem": "支委会未按月召开", "deadline": "2027-02-28",
         "responsible": task.responsible_id},
    )  # fmt: skip
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.problem == "支委会未按月召开" and task.deadline == dt.date(2027, 2, 28)
    assert AuditEntry.objects.filter(action="rectification.update", object_id=str(task.pk)).exists()
    services.confirm(actor=organizer, tasks=[task])
    secretary = setup.extra["secretaries"]["a1"][1]
    services.save_plan(actor=secretary, task=task, plan="计划")
    services.submit_completion(
        actor=secretary, task=task, completion="完成",
        files=[SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")],
    )  # fmt: skip
    r = client.post(_url("return", task.pk), {"reason": ""}, follow=True)
    assert "请填写退回原因" in r.content.decode()
    client.post(_url("return", task.pk), {"reason": "材料不全"})
    client.force_login(secretary)
    body = client.get(_url("mine")).content.decode()
    assert "退回原因：材料不全" in body


def test_a_manual_task(client, setup, organizer):
    client.force_login(organizer)
    assert client.get(_url("create", setup.campaign.pk)).status_code == 200
    r = client.post(
        _url("create", setup.campaign.pk),
        {"target": setup.targets["a2"].pk, "problem": "党费收缴不及时", "deadline": "2027-03-01"},
    )
    task = RectificationTask.objects.get(source_kind="manual")
    assert r.status_code == 302 and r["Location"] == _url("detail", task.pk)
    assert task.status == TaskStatus.OPEN


def test_scope_404_and_403(client, setup, organizer, outsider, sub_organizer, norole):
    tasks = _proposed(setup, organizer)
    task = tasks[("ZB11", "deduction", "1.3")]
    services.confirm(actor=organizer, tasks=[task])
    proposal = tasks[("ZB12", "weak", "2.1")]
    client.force_login(outsider)
    assert client.get(_url("detail", task.pk)).status_code == 404
    assert client.post(_url("progress", task.pk), {"text": "x"}).status_code == 404
    client.force_login(sub_organizer)  # reads 第一党总支's tasks, runs nothing
    assert client.get(_url("detail", task.pk)).status_code == 200
    assert client.get(_url("detail", proposal.pk)).status_code == 404
    assert client.post(_url("progress", task.pk), {"text": "x"}).status_code == 403
    assert client.post(_url("propose", setup.campaign.pk)).status_code == 403
    assert client.post(_url("bulk", setup.campaign.pk), {"action": "confirm"}).status_code == 403
    client.force_login(setup.submitters["a2"])  # another unit's 单位填报员
    assert client.get(_url("detail", task.pk)).status_code == 404
    client.force_login(setup.submitters["a1"])
    assert client.get(_url("detail", task.pk)).status_code == 200
    assert client.post(_url("plan", task.pk), {"plan": "计划"}).status_code == 302
    assert client.post(_url("verify", task.pk)).status_code == 403
    client.force_login(norole)
    assert client.get(_url("mine")).status_code == 403


def test_the_next_campaign_shows_the_previous_tasks_and_the_debriefing_link(
    client, setup, tree, organizer
):
    tasks = _proposed(setup, organizer)
    task = tasks[("ZB21", "weak", "2.1")]
    services.confirm(actor=organizer, tasks=[task])
    RectificationTask.objects.filter(pk=task.pk).update(deadline=dt.date(2026, 3, 31))
    nxt = next_campaign(tree, organizer)
    client.force_login(organizer)
    body = client.get(_url("previous", nxt.campaign.pk)).content.decode()
    assert body.count('data-testid="previous-row"') == 1 and "2026-04-01 扣分记录" in body
    assert "指标 2.4" in body
    # the 述职 meeting of a debriefing campaign over the 书记 shows the status and the link
    from kaoping.campaigns.models import Campaign

    Campaign.objects.filter(pk=nxt.campaign.pk).update(
        campaign_type="debriefing", status="appraisal"
    )
    person = setup.extra["secretaries"]["root"][0]
    Target.objects.create(
        campaign=nxt.campaign, person=person, code=person.staff_no, name=person.name
    )
    # the 机关党委 itself has no task; b1 is answered for by its unit (法规处党支部)
    from ..factories import PersonFactory

    b1_secretary = PersonFactory(name="法规处书记", organization=tree["b1"])
    Target.objects.create(
        campaign=nxt.campaign, person=b1_secretary, code=b1_secretary.staff_no, name="法规处书记"
    )
    body = client.get(
        reverse("ballots:debriefing_meeting", args=[nxt.campaign.pk])
    ).content.decode()
    assert "上年度整改任务 1 项：已销号 0 项，逾期未完成 1 项" in body
    link = _url("campaign", setup.campaign.pk) + f"?org={tree['b1'].pk}"
    assert f'href="{link}"' in body
    assert "上年度整改情况：暂无整改记录" in body  # the 机关党委书记: no task of the 机关党委
