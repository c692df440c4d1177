"""Self-assessment and evidence pages: the unit's own submitter, another unit's submitter, an
assigned and an unassigned reviewer, the organizer, an organizer of another subtree."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kaoping.accounts.models import Role
from kaoping.campaigns.models import ReviewerAssignment
from kaoping.collection import self_services as svc
from kaoping.collection.models import AssessmentStatus, Evidence, SelfAssessment

from ..collection_fixtures import campaign_in_self_assessment
from ..evidence_samples import ELF_BYTES, docx_bytes, pdf_bytes, png_bytes, upload
from ..factories import UserFactory, grant

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def setup(tree, organizer):
    return campaign_in_self_assessment(tree, organizer=organizer)


def form_url(setup, key="a1"):
    return reverse("collection:self_form", args=[setup.campaign.pk, setup.targets[key].pk])


def row_url(setup, name, code, key="a1", *extra):
    args = [setup.campaign.pk, setup.targets[key].pk, setup.indicators[code].pk, *extra]
    return reverse(f"collection:{name}", args=args)


@pytest.fixture
def unassigned_reviewer(tree, setup):
    user = UserFactory(username="reviewer2")
    grant(user, Role.REVIEWER, tree["root"])
    other = setup.targets["a2"]
    ReviewerAssignment.objects.create(campaign=setup.campaign, reviewer=user, target=other)
    return user


def test_unit_sees_and_edits_its_own_form(client, setup):
    client.force_login(setup.submitters["a1"])
    response = client.get(form_url(setup))
    assert response.status_code == 200
    html = response.content.decode()
    for code in ("1.1", "1.2", "1.3", "2.3"):
        assert f'data-testid="row-{code}"' in html
    assert 'data-testid="held-2.1"' in html and "待导入量化数据" in html
    assert 'data-testid="held-2.2"' in html
    assert "0 至 10 分" in html
    assert "提交自评" in html


def test_scope(client, setup, outsider, unassigned_reviewer, organizer):
    url = form_url(setup)
    client.force_login(setup.submitters["a2"])  # another unit's submitter
    assert client.get(url).status_code == 404
    assert client.post(row_url(setup, "self_save_row", "1.1"), {"score": "1"}).status_code == 404
    client.force_login(unassigned_reviewer)
    assert client.get(url).status_code == 404
    client.force_login(outsider)  # organizer of 第二党总支
    assert client.get(url).status_code == 404
    client.force_login(setup.reviewer)  # assigned: reads, may not edit
    response = client.get(url)
    assert response.status_code == 200
    assert "提交自评" not in response.content.decode()
    assert client.post(row_url(setup, "self_save_row", "1.1"), {"score": "1"}).status_code == 403
    client.force_login(organizer)
    response = client.get(url)
    assert response.status_code == 200
    assert client.post(row_url(setup, "self_save_row", "1.1"), {"score": "1"}).status_code == 403


def test_save_row_htmx_shows_chinese_errors_and_keeps_input(client, setup):
    client.force_login(setup.submitters["a1"])
    url = row_url(setup, "self_save_row", "1.1")
    response = client.post(url, {"score": "12", "narrative": "学习 12 次"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "自评分应在 0 至 10 分之间，不能填 12" in html
    assert 'value="12"' in html and "学习 12 次" in html
    response = client.post(url, {"score": "8.5", "narrative": "按计划学习"}, **HX)
    assert "已保存" in response.content.decode()
    item = SelfAssessment.objects.get(target=setup.targets["a1"]).items.get()
    assert str(item.score) == "8.50"
    # Without HTMX: back to the page.
    response = client.post(row_url(setup, "self_save_row", "1.3"), {"occ_a": "2", "occ_b": ""})
    assert response.status_code == 302


def test_upload_bad_files_and_reuse(client, setup, settings):
    client.force_login(setup.submitters["a1"])
    url = row_url(setup, "self_upload", "1.1")
    response = client.post(url, {"file": upload("可执行.pdf", ELF_BYTES)}, **HX)
    assert "“可执行.pdf”未能上传：文件内容是可执行程序" in response.content.decode()
    settings.KAOPING_EVIDENCE_MAX_BYTES = 100
    response = client.post(url, {"file": upload("大.pdf", pdf_bytes())}, **HX)
    assert "大小限制" in response.content.decode()
    settings.KAOPING_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    response = client.post(url, {"file": upload("会议记录.pdf", pdf_bytes())}, **HX)
    assert "已上传：会议记录.pdf" in response.content.decode()
    evidence = Evidence.objects.get()
    # The same bytes again: nothing stored twice.
    response = client.post(url, {"file": upload("副本.pdf", pdf_bytes())}, **HX)
    assert "本单位已上传过相同的文件" in response.content.decode()
    assert Evidence.objects.count() == 1
    # Reuse picker on another indicator, then attach.
    response = client.get(row_url(setup, "self_library", "2.3") + "?q=会议", **HX)
    assert "会议记录.pdf" in response.content.decode()
    response = client.get(row_url(setup, "self_library", "2.3") + "?q=没有", **HX)
    assert "没有找到" in response.content.decode()
    response = client.post(row_url(setup, "self_attach", "2.3"), {"evidence": evidence.pk}, **HX)
    assert "已选用：会议记录.pdf" in response.content.decode()
    item = SelfAssessment.objects.get().items.get(indicator=setup.indicators["2.3"])
    assert list(item.evidence.all()) == [evidence]
    response = client.post(row_url(setup, "self_detach", "2.3", "a1", evidence.pk), **HX)
    assert "已移除" in response.content.decode()


def test_attaching_another_units_evidence_is_404(client, setup, tree):
    other = svc.upload_evidence(
        actor=setup.submitters["a2"],
        organization=tree["a2"],
        uploaded_file=upload("别人的.pdf", pdf_bytes("x")),
    )
    client.force_login(setup.submitters["a1"])
    response = client.post(row_url(setup, "self_attach", "1.1"), {"evidence": other.pk}, **HX)
    assert response.status_code == 404


def _fill(setup):
    user, target, ind = setup.submitters["a1"], setup.targets["a1"], setup.indicators
    svc.save_item(actor=user, target=target, indicator=ind["1.1"], score=9)
    svc.save_item(actor=user, target=target, indicator=ind["1.2"], grade="好")
    svc.save_item(actor=user, target=target, indicator=ind["1.3"], occurrences={"a": 0})
    svc.save_item(actor=user, target=target, indicator=ind["2.3"], score=30)
    svc.upload_and_attach(
        actor=user, target=target, indicator=ind["1.1"], uploaded_file=upload("a.pdf", pdf_bytes())
    )


def test_submit_return_accept_pages(client, setup, organizer):
    submit_url = reverse("collection:self_submit", args=[setup.campaign.pk, setup.targets["a1"].pk])
    client.force_login(setup.submitters["a1"])
    response = client.post(submit_url)
    html = response.content.decode()
    assert (
        "以下内容尚未完成，暂不能提交" in html and "1.2 落实意识形态工作责任制：未填写等次" in html
    )
    _fill(setup)
    assert client.post(submit_url).status_code == 302
    assert "退回前不能修改" in client.get(form_url(setup)).content.decode()
    args = [setup.campaign.pk, setup.targets["a1"].pk]
    assert (
        client.post(reverse("collection:self_return", args=args), {"comment": "x"}).status_code
        == 403
    )
    client.force_login(organizer)
    response = client.post(reverse("collection:self_return", args=args), {"comment": ""})
    assert "请填写退回意见" in response.content.decode()
    client.post(reverse("collection:self_return", args=args), {"comment": "请补充 1.3 的说明"})
    assessment = SelfAssessment.objects.get()
    assert assessment.status == AssessmentStatus.RETURNED
    client.force_login(setup.submitters["a1"])
    html = client.get(form_url(setup)).content.decode()
    assert "退回意见：请补充 1.3 的说明" in html
    assert client.post(submit_url).status_code == 302
    client.force_login(organizer)
    overview = client.get(reverse("collection:self_overview", args=[setup.campaign.pk]))
    assert "已提交" in overview.content.decode()
    client.post(reverse("collection:self_accept", args=args))
    assert SelfAssessment.objects.get().status == AssessmentStatus.ACCEPTED


def test_self_list(client, setup, organizer):
    client.force_login(setup.submitters["a1"])
    html = client.get(reverse("collection:self_list")).content.decode()
    assert setup.targets["a1"].name in html and setup.targets["a2"].name not in html
    client.force_login(organizer)
    html = client.get(reverse("collection:self_list")).content.decode()
    assert "自评情况" in html


@pytest.mark.parametrize(
    ("name", "data", "content_type", "inline"),
    [
        ("会议记录.pdf", pdf_bytes(), "application/pdf", True),
        ("照片.png", png_bytes(), "image/png", True),
        (
            "记录.docx",
            docx_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            False,
        ),
    ],
)
def test_preview_headers(client, setup, tree, name, data, content_type, inline):
    evidence = svc.upload_evidence(
        actor=setup.submitters["a1"], organization=tree["a1"], uploaded_file=upload(name, data)
    )
    client.force_login(setup.submitters["a1"])
    response = client.get(reverse("collection:evidence_preview", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline" if inline else "attachment")
    assert b"".join(response.streaming_content) == data


def test_preview_scope(client, setup, tree, organizer, outsider, unassigned_reviewer):
    evidence = svc.upload_evidence(
        actor=setup.submitters["a1"],
        organization=tree["a1"],
        uploaded_file=upload("a.pdf", pdf_bytes()),
    )
    url = reverse("collection:evidence_preview", args=[evidence.pk])
    for user in (setup.submitters["a1"], organizer):
        client.force_login(user)
        assert client.get(url).status_code == 200
    for user in (setup.submitters["a2"], outsider, unassigned_reviewer, setup.reviewer):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    # Once used in the self-assessment of a target assigned to the reviewer, they may see it.
    svc.attach_evidence(
        actor=setup.submitters["a1"],
        target=setup.targets["a1"],
        indicator=setup.indicators["1.1"],
        evidence=evidence,
    )
    client.force_login(setup.reviewer)
    assert client.get(url).status_code == 200
    client.force_login(unassigned_reviewer)
    assert client.get(url).status_code == 404


def test_link_by_target_alone(client, setup):
    url = reverse("collection:self_assessment", args=[setup.targets["a1"].pk])
    client.force_login(setup.submitters["a1"])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == form_url(setup)
    client.force_login(setup.submitters["a2"])
    assert client.get(url).status_code == 404
