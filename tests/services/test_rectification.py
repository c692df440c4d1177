"""整改: proposals from every source kind of the results, idempotency, the responsibility chain,
the status transitions and their refusals, overdue tasks and reminders, and the feedback to the
next cycle (平时考核纪实 that the next compute takes in, the status beside the 述职 report)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from kaoping import policy
from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry
from kaoping.ballots import debriefing
from kaoping.campaigns.models import Notification, Target
from kaoping.campaigns.selectors import todo_for
from kaoping.collection.models import DailyRecord, Evidence
from kaoping.indicators.models import Indicator
from kaoping.rectification import selectors, services
from kaoping.rectification.models import RectificationTask, TaskStatus
from kaoping.results import services as result_services
from kaoping.results.models import Appeal, AppealStatus, InputCorrection

from ..factories import UserFactory, grant
from ..rectification_fixtures import approved_results, next_campaign

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="整改报告.pdf", body=b""):
    return SimpleUploadedFile(name, PDF + body, content_type="application/pdf")


@pytest.fixture
def setup(tree, organizer):
    return approved_results(tree, organizer)


def _propose(setup, organizer):
    return services.propose_from_results(actor=organizer, result_set=setup.extra["result_set"])


def _tasks(setup):
    return {
        (t.target.organization.code, t.source_kind, t.source_ref): t
        for t in RectificationTask.objects.filter(campaign=setup.campaign).select_related(
            "target__organization", "responsible", "supervisor"
        )
    }


def _open(setup, organizer, key):
    task = _tasks(setup)[key]
    services.confirm(actor=organizer, tasks=[task])
    task.refresh_from_db()
    return task


# ---- proposals ------------------------------------------------------------------------------


def test_proposals_from_deductions_weak_indicators_and_the_lowest_grade(setup, organizer):
    done = _propose(setup, organizer)
    tasks = _tasks(setup)
    assert set(tasks) == {
        ("ZB11", "deduction", "1.3"),
        ("ZB12", "weak", "2.1"),
        ("ZB21", "weak", "2.1"),
        ("ZB21", "weak", "2.3"),
        ("ZB21", "grade", "差"),
    }
    assert done.created == 5 and done.by_kind == {"deduction": 1, "weak": 3, "grade": 1}
    deduction = tasks[("ZB11", "deduction", "1.3")]
    assert deduction.problem == "“严格党的组织生活”扣 1 分：未按时召开支委会 1 次"
    assert (deduction.indicator_code, deduction.indicator_name) == ("1.3", "严格党的组织生活")
    weak = tasks[("ZB21", "weak", "2.3")]
    assert weak.problem == "“党建与业务融合”得 20 分（满分 40 分，得分率 50%），低于 60%"
    grade = tasks[("ZB21", "grade", "差")]
    assert grade.problem.startswith("考核等次为“差”（总分 54 分，排名第 3）")
    # no result-use rule sends 差 to 整改 in this campaign: a proposal, not a mandatory task
    assert not grade.mandatory
    for t in tasks.values():
        assert t.status == TaskStatus.PROPOSED and t.organization == t.target.unit
        assert t.deadline == services.add_months(timezone.localdate(), 3)
        assert t.updates.filter(kind="create").exists()
    entry = AuditEntry.objects.get(action="rectification.create")
    assert entry.data["created"] == 5


def test_a_reviewer_reason_is_part_of_the_deduction_problem(tree, organizer):
    from kaoping.collection.models import ReviewScore

    def reason(setup):
        ReviewScore.objects.filter(indicator__code="1.3").update(reason="3 月、5 月支委会未召开")

    setup = approved_results(tree, organizer, before=reason)
    _propose(setup, organizer)
    task = _tasks(setup)[("ZB11", "deduction", "1.3")]
    assert task.problem.endswith("（评审意见：3 月、5 月支委会未召开）")


def test_veto_and_upheld_appeal_become_mandatory_and_plain_proposals(tree, organizer):
    def veto_and_rules(setup):
        Indicator.objects.filter(version=setup.version, code="1").update(
            veto={"effect": "ceiling", "grade": "一般"}
        )
        InputCorrection.objects.create(
            campaign=setup.campaign, target=setup.targets["a2"], indicator_code="1",
            veto=True, reason="发生违反政治纪律问题",
        )  # fmt: skip
        setup.campaign.result_rules = [
            {"when": "grade", "value": "差", "then": "rectification"},
            {"when": "veto", "then": "rectification"},
        ]
        setup.campaign.save()

    setup = approved_results(tree, organizer, before=veto_and_rules)
    rs = setup.extra["result_set"]
    a2 = rs.results.get(target=setup.targets["a2"])
    assert "veto" in a2.flags
    Appeal.objects.create(
        campaign=setup.campaign, target=setup.targets["a1"], indicator_code="2.3",
        reason="评分漏计融合案例", status=AppealStatus.UPHELD, decision="补计融合案例后更正为 36 分",
    )  # fmt: skip
    _propose(setup, organizer)
    tasks = _tasks(setup)
    veto = tasks[("ZB12", "veto", "veto")]
    assert veto.problem == "触发一票否决：“政治建设”，须限期整改"
    assert veto.mandatory
    assert tasks[("ZB21", "grade", "差")].mandatory  # the rule sends 差 to 整改
    appeal = next(t for k, t in tasks.items() if k[1] == "appeal")
    assert appeal.target == setup.targets["a1"] and appeal.indicator_code == "2.3"
    assert "申诉成立，“党建与业务融合”已更正：补计融合案例后更正为 36 分" in appeal.problem
    # a task the rules require cannot be dropped
    with pytest.raises(ValidationError) as exc:
        services.drop(actor=organizer, tasks=[veto])
    assert "结果运用规则规定的限期整改，不能撤销" in " ".join(exc.value.messages)


def test_proposing_again_creates_nothing_new_and_keeps_what_was_dropped(setup, organizer):
    _propose(setup, organizer)
    weak = _tasks(setup)[("ZB12", "weak", "2.1")]
    services.drop(actor=organizer, tasks=[weak], reason="数据口径问题，不需整改")
    again = _propose(setup, organizer)
    assert again.created == 0 and again.existing == 5
    assert RectificationTask.objects.filter(campaign=setup.campaign).count() == 5
    weak.refresh_from_db()
    assert weak.status == TaskStatus.CANCELLED and weak.cancel_reason == "数据口径问题，不需整改"


def test_a_proposal_whose_problem_was_corrected_is_withdrawn(setup, organizer):
    _propose(setup, organizer)
    campaign = setup.campaign
    # an upheld appeal corrects b1's 2.3 to full marks during publication: new results
    from kaoping.results.models import ResultSet

    InputCorrection.objects.create(
        campaign=campaign, target=setup.targets["b1"], indicator_code="2.3", score=40,
        reason="申诉成立",
    )  # fmt: skip
    ResultSet.objects.filter(pk=setup.extra["result_set"].pk).update(status="published")
    campaign.status = "publication"
    campaign.save()
    rs, created = result_services.compute(actor=organizer, campaign=campaign)
    assert created and rs.status == "published"
    again = services.propose_from_results(actor=organizer, result_set=rs)
    assert again.withdrawn >= 1
    gone = _tasks(setup)[("ZB21", "weak", "2.3")]
    assert gone.status == TaskStatus.CANCELLED and "考核结果已更正" in gone.cancel_reason


def test_proposals_need_approved_current_results_and_the_organizer(tree, organizer, outsider):
    from kaoping.results.models import ResultSet

    setup = approved_results(tree, organizer)
    rs = setup.extra["result_set"]
    with pytest.raises(PermissionDenied):
        services.propose_from_results(actor=outsider, result_set=rs)
    ResultSet.objects.filter(pk=rs.pk).update(status="draft")
    with pytest.raises(ValidationError) as exc:
        services.propose_from_results(actor=organizer, result_set=rs)
    assert exc.value.messages == ["考核结果审批通过后才能生成整改建议"]
    assert not RectificationTask.objects.exists()


# ---- the responsibility chain -----------------------------------------------------------------


def test_the_chain_runs_from_the_branch_secretary_to_the_owner_secretary(setup, organizer):
    _propose(setup, organizer)
    tasks = _tasks(setup)
    sec_a1 = setup.extra["secretaries"]["a1"][0]
    sec_root = setup.extra["secretaries"]["root"][0]
    a1 = tasks[("ZB11", "deduction", "1.3")]
    assert a1.responsible == sec_a1 and a1.responsible_basis == "党支部书记（第一责任人）"
    # no 分管 relation in the register: the owner's 书记 supervises, and the page says why
    assert a1.supervisor == sec_root and "无分管班子成员" in a1.supervisor_basis
    b1 = tasks[("ZB21", "weak", "2.1")]  # 法规处党支部 has no 书记
    assert b1.responsible == sec_root and b1.responsible_basis.startswith("本单位无在任书记")


def test_without_any_secretary_a_responsible_person_must_be_named(tree, organizer):
    setup = approved_results(tree, organizer, secretaries=False)
    _propose(setup, organizer)
    task = _tasks(setup)[("ZB11", "deduction", "1.3")]
    assert task.responsible is None and task.responsible_basis == "未找到在任书记，请指定整改责任人"
    with pytest.raises(ValidationError) as exc:
        services.confirm(actor=organizer, tasks=[task])
    assert "尚未指定整改责任人" in " ".join(exc.value.messages)
    from ..factories import PersonFactory

    person = PersonFactory(name="办公室主任", organization=tree["a1"])
    services.update_task(
        actor=organizer, task=task, problem=task.problem, deadline=task.deadline,
        responsible=person,
    )  # fmt: skip
    task.refresh_from_db()
    assert task.responsible == person and task.responsible_basis == "组织者指定"
    services.confirm(actor=organizer, tasks=[task])
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


# ---- the workflow ---------------------------------------------------------------------------


def test_a_task_from_confirmation_to_verification(setup, organizer):
    _propose(setup, organizer)
    task = _open(setup, organizer, ("ZB11", "deduction", "1.3"))
    secretary = setup.extra["secretaries"]["a1"][1]
    assert task.status == TaskStatus.OPEN and task.confirmed_at is not None
    assert Notification.objects.filter(user=secretary, message__contains="新的整改任务").exists()

    with pytest.raises(ValidationError) as exc:
        services.submit_completion(actor=secretary, task=task, completion="已整改", files=[pdf()])
    assert exc.value.message_dict["plan"] == ["请先填写整改措施"]
    services.save_plan(actor=secretary, task=task, plan="建立支委会月度提醒制度")
    update = services.report_progress(
        actor=secretary, task=task, text="已补开 3 月支委会", files=[pdf("会议记录.pdf")]
    )
    assert update.evidence.get().name == "会议记录.pdf"
    with pytest.raises(ValidationError) as exc:
        services.submit_completion(actor=secretary, task=task, completion="已整改")
    assert exc.value.message_dict["files"] == ["请上传整改完成的佐证材料"]
    services.submit_completion(
        actor=secretary, task=task, completion="支委会按月召开", files=[pdf(body=b"x")]
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED and task.evidence.count() == 1
    with pytest.raises(ValidationError) as exc:
        services.report_progress(actor=secretary, task=task, text="又一进展")
    assert exc.value.messages == [
        "整改任务当前为“完成待验收”，不能报告整改进展（只有“整改中、已退回”的任务可以）"
    ]
    with pytest.raises(PermissionDenied):
        services.verify(actor=secretary, task=task)
    with pytest.raises(ValidationError) as exc:
        services.return_task(actor=organizer, task=task, reason=" ")
    assert exc.value.message_dict["reason"] == ["请填写退回原因"]
    services.return_task(actor=organizer, task=task, reason="缺少 4 月会议记录")
    task.refresh_from_db()
    assert task.status == TaskStatus.RETURNED and task.return_reason == "缺少 4 月会议记录"
    services.submit_completion(
        actor=secretary, task=task, completion="补充 4 月会议记录", files=[pdf(body=b"y")]
    )
    services.verify(actor=organizer, task=task, comment="整改到位")
    task.refresh_from_db()
    assert task.status == TaskStatus.VERIFIED and task.verify_comment == "整改到位"
    assert task.verified_by == organizer and not task.overdue
    with pytest.raises(ValidationError):
        services.verify(actor=organizer, task=task)
    kinds = list(task.updates.values_list("kind", flat=True))
    assert kinds == ["create", "confirm", "plan", "progress", "submit", "return", "submit",
                     "verify"]  # fmt: skip
    actions = set(
        AuditEntry.objects.filter(object_id=str(task.pk), object_type="rectification.rectificationtask")
        .values_list("action", flat=True)
    )  # fmt: skip
    assert {"rectification.update", "rectification.progress", "rectification.submit",
            "rectification.return", "rectification.verify"} <= actions  # fmt: skip
    assert Notification.objects.filter(user=secretary, message__contains="已销号").exists()


def test_evidence_is_stored_once_and_checked_by_content(setup, organizer):
    _propose(setup, organizer)
    task = _open(setup, organizer, ("ZB11", "deduction", "1.3"))
    secretary = setup.extra["secretaries"]["a1"][1]
    services.report_progress(actor=secretary, task=task, text="一", files=[pdf("a.pdf")])
    services.report_progress(actor=secretary, task=task, text="二", files=[pdf("a.pdf")])
    assert Evidence.objects.filter(organization=task.organization).count() == 1
    bad = SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        services.report_progress(actor=secretary, task=task, text="三", files=[bad])
    assert exc.value.message_dict["files"] == [
        "“报告.pdf”：文件内容是可执行程序，不能作为佐证材料上传"
    ]
    assert task.updates.filter(kind="progress").count() == 2


def test_who_may_report_and_who_may_see(setup, organizer, outsider, sub_organizer):
    _propose(setup, organizer)
    task = _open(setup, organizer, ("ZB11", "deduction", "1.3"))
    submitter = setup.submitters["a1"]  # 单位填报员 of 办公室党支部
    other_unit = setup.submitters["a2"]
    services.save_plan(actor=submitter, task=task, plan="按月召开支委会")
    for user in (other_unit, outsider, setup.extra["secretaries"]["root"][1], sub_organizer):
        with pytest.raises(PermissionDenied):
            services.report_progress(actor=user, task=task, text="代报")
    visible = policy.visible_rect_tasks
    assert visible(submitter).filter(pk=task.pk).exists()
    assert visible(setup.extra["secretaries"]["a1"][1]).filter(pk=task.pk).exists()
    assert visible(sub_organizer).filter(pk=task.pk).exists()  # 第一党总支's subtree: read
    assert not visible(outsider).filter(pk=task.pk).exists()
    assert not visible(other_unit).filter(pk=task.pk).exists()
    proposal = _tasks(setup)[("ZB12", "weak", "2.1")]
    assert not visible(sub_organizer).filter(pk=proposal.pk).exists()  # proposals stay inside
    assert visible(organizer).filter(pk=proposal.pk).exists()
    leader = UserFactory(username="leader_a")
    grant(leader, Role.LEADER, setup.campaign.owner.children.get(code="ZZ1"))
    assert visible(leader).filter(pk=task.pk).exists()
    assert not policy.can_work_on_rect(leader, task)


def test_manual_task_and_edit_refusals(setup, organizer):
    target = setup.targets["a2"]
    with pytest.raises(ValidationError) as exc:
        services.create_task(
            actor=organizer, target=target, problem="", indicator_code="9.9",
            deadline=dt.date(2020, 1, 1),
        )  # fmt: skip
    errors = exc.value.message_dict
    assert errors["problem"] == ["请填写存在问题"]
    assert errors["deadline"] == ["整改期限不能早于今天"]
    assert errors["indicator_code"] == ["指标体系中没有编码为“9.9”的指标"]
    task = services.create_task(
        actor=organizer, target=target, problem="党员发展档案不规范", indicator_code="2.1"
    )
    assert task.status == TaskStatus.OPEN and task.source_kind == "manual"
    assert task.responsible == setup.extra["secretaries"]["root"][0]
    assert task.indicator_name == "党员发展计划完成率"


# ---- overdue and reminders ------------------------------------------------------------------


def test_overdue_tasks_are_counted_reminded_and_listed(setup, organizer, capsys):
    _propose(setup, organizer)
    task = _open(setup, organizer, ("ZB11", "deduction", "1.3"))
    soon = _open(setup, organizer, ("ZB12", "weak", "2.1"))
    today = timezone.localdate()
    RectificationTask.objects.filter(pk=task.pk).update(deadline=today - dt.timedelta(days=5))
    RectificationTask.objects.filter(pk=soon.pk).update(deadline=today + dt.timedelta(days=3))
    task.refresh_from_db()
    assert task.overdue and task.days_overdue == 5
    c = selectors.counts(RectificationTask.objects.filter(campaign=setup.campaign))
    assert c["overdue"] == 1 and c["open"] == 2 and c["proposed"] == 3
    done = services.remind()
    assert [t.pk for t in done.overdue] == [task.pk] and [t.pk for t in done.due_soon] == [soon.pk]
    secretary = setup.extra["secretaries"]["a1"][1]
    assert Notification.objects.filter(user=secretary, message__contains="已逾期 5 天").exists()
    call_command("rectification", "remind")
    out = capsys.readouterr().out
    assert f"#{task.pk}" in out and "逾期 5 天" in out and "逾期 1 项" in out
    # to-do entries: the secretary's overdue task; the organizer's proposals to review
    todo = todo_for(secretary)
    mine = [i for i in todo if i["kind"] == "整改"]
    assert mine and mine[0]["overdue"] and "办公室党支部整改" in mine[0]["text"]
    org_todo = [i["text"] for i in todo_for(organizer) if i["kind"] == "整改"]
    assert "审核 3 项整改建议" in org_todo


def test_open_tasks_for_a_unit(setup, organizer):
    _propose(setup, organizer)
    task = _open(setup, organizer, ("ZB21", "weak", "2.1"))
    assert list(selectors.open_tasks_for(task.organization)) == [task]
    assert not selectors.open_tasks_for(setup.targets["a1"].organization).exists()


# ---- feedback to the next cycle -------------------------------------------------------------


def _overdue_in_next_period(task):
    """A deadline in the next campaign's period (2026), already past."""
    RectificationTask.objects.filter(pk=task.pk).update(deadline=dt.date(2026, 3, 31))
    task.refresh_from_db()
    return task


def test_an_overdue_task_becomes_a_daily_record_the_next_compute_takes_in(setup, tree, organizer):
    _propose(setup, organizer)
    task = _overdue_in_next_period(_open(setup, organizer, ("ZB21", "weak", "2.1")))
    on_time = _open(setup, organizer, ("ZB11", "deduction", "1.3"))
    nxt = next_campaign(tree, organizer)
    done = services.sync_daily_records(nxt.campaign)
    assert done["created"] == 1
    record = DailyRecord.objects.get(source=f"rectification:{task.pk}")
    assert (record.organization, record.indicator_code, record.item_code, record.kind) == (
        tree["b1"], "2.4", "a", "deduction",
    )  # fmt: skip
    assert record.occurred_on == dt.date(2026, 4, 1)
    assert record.description.startswith("整改任务逾期未完成（期限 2026-03-31）")
    assert not DailyRecord.objects.filter(source=f"rectification:{on_time.pk}").exists()
    assert services.sync_daily_records(nxt.campaign)["created"] == 0  # idempotent
    # the next campaign's compute deducts it: 5 − 2 for b1's 问题整改
    rs, _ = result_services.compute(actor=organizer, campaign=nxt.campaign)
    b1 = rs.results.get(target=nxt.targets["b1"])
    assert b1.indicators["2.4"] == pytest.approx(3)
    assert rs.results.get(target=nxt.targets["a1"]).indicators["2.4"] == pytest.approx(5)
    # completed late: the record stays and says so
    secretary_root = setup.extra["secretaries"]["root"][1]
    services.save_plan(actor=secretary_root, task=task, plan="提高党员发展计划完成率")
    services.submit_completion(actor=secretary_root, task=task, completion="已完成", files=[pdf()])
    services.verify(actor=organizer, task=task)
    record.refresh_from_db()
    assert record.description.startswith("整改任务逾期完成（期限 2026-03-31，")
    # the previous-cycle page lists the task with its record
    prev = selectors.previous_tasks(organizer, nxt.campaign)
    assert set(prev) == {task, on_time}


def test_a_task_completed_on_time_leaves_no_record(setup, tree, organizer):
    _propose(setup, organizer)
    task = _open(setup, organizer, ("ZB21", "weak", "2.1"))
    secretary_root = setup.extra["secretaries"]["root"][1]
    services.save_plan(actor=secretary_root, task=task, plan="计划")
    services.submit_completion(actor=secretary_root, task=task, completion="完成", files=[pdf()])
    nxt = next_campaign(tree, organizer)
    # the deadline passes while the organizer has not verified yet: a record for now
    _overdue_in_next_period(task)
    RectificationTask.objects.filter(pk=task.pk).update(
        submitted_at=timezone.make_aware(dt.datetime(2026, 3, 1, 10))
    )
    task.refresh_from_db()
    assert services.sync_task_record(task) == "created"
    services.verify(actor=organizer, task=task)  # submitted before the deadline: not late
    assert not DailyRecord.objects.filter(source=f"rectification:{task.pk}").exists()
    assert services.sync_daily_records(nxt.campaign)["created"] == 0


def test_without_a_matching_indicator_the_tasks_show_on_the_next_campaign_only(
    setup, tree, organizer
):
    _propose(setup, organizer)
    task = _overdue_in_next_period(_open(setup, organizer, ("ZB21", "weak", "2.1")))
    nxt = next_campaign(tree, organizer, record_item=False)
    done = services.sync_daily_records(nxt.campaign)
    assert done["no_indicator"] == 1
    assert not DailyRecord.objects.filter(source__startswith="rectification:").exists()
    assert list(selectors.previous_tasks(organizer, nxt.campaign)) == [task]
    assert services.record_item(nxt.version) is None


def test_a_configured_indicator_code_wins(setup, tree, organizer, settings):
    settings.KAOPING_RECTIFICATION_RECORD = {"indicator": "1.3", "item": "b"}
    _propose(setup, organizer)
    task = _overdue_in_next_period(_open(setup, organizer, ("ZB21", "weak", "2.1")))
    nxt = next_campaign(tree, organizer)
    services.sync_daily_records(nxt.campaign)
    record = DailyRecord.objects.get(source=f"rectification:{task.pk}")
    assert (record.indicator_code, record.item_code) == ("1.3", "b")


def test_previous_rectification_status_beside_the_debriefing_report(setup, tree, organizer):
    _propose(setup, organizer)
    verified = _open(setup, organizer, ("ZB11", "deduction", "1.3"))
    # a1 gets a second, manual task which runs past its deadline
    overdue = services.create_task(
        actor=organizer, target=setup.targets["a1"], problem="“三会一课”记录不全"
    )
    RectificationTask.objects.filter(pk=overdue.pk).update(deadline=dt.date(2026, 5, 31))
    secretary = setup.extra["secretaries"]["a1"][1]
    RectificationTask.objects.filter(pk=verified.pk).update(deadline=dt.date(2026, 12, 31))
    verified.refresh_from_db()
    services.save_plan(actor=secretary, task=verified, plan="计划")
    services.submit_completion(actor=secretary, task=verified, completion="完成", files=[pdf()])
    services.verify(actor=organizer, task=verified)
    # the secretary is a target of the next cycle (述职评议 over cadres)
    nxt = next_campaign(tree, organizer)
    person = setup.extra["secretaries"]["a1"][0]
    target = Target.objects.create(
        campaign=nxt.campaign, person=person, code=person.staff_no, name=person.name
    )
    text = debriefing.previous_rectification_status(target)
    assert text == "上年度整改任务 2 项：已销号 1 项，逾期未完成 1 项"
    assert text.url.endswith(f"/rectification/campaign/{setup.campaign.pk}/?org={tree['a1'].pk}")
    # a unit without tasks: None, and the meeting shows the placeholder
    other = Target.objects.create(
        campaign=nxt.campaign, organization=tree["b2"], code="ZB22", name="信息中心党支部"
    )
    assert debriefing.previous_rectification_status(other) is None
    # no earlier campaign for the campaign that produced the tasks
    assert debriefing.previous_rectification_status(setup.targets["a1"]) is None
