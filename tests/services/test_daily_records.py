"""Daily records (平时考核纪实): recording, scope, what feeds a campaign, the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kaoping.audit.models import AuditEntry
from kaoping.collection import daily_selectors as dsel
from kaoping.collection import daily_services as dsvc
from kaoping.collection.models import DailyRecord, RecordKind

from ..collection_fixtures import campaign_in_self_assessment
from ..evidence_samples import ELF_BYTES, pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    return campaign_in_self_assessment(tree, organizer=organizer)


def record(setup, actor, org, code="2.2", item="city", day=dt.date(2025, 6, 1), **kw):
    return dsvc.create_record(
        actor=actor,
        organization=org,
        indicator=setup.indicators[code],
        item_code=item,
        occurred_on=day,
        description=kw.pop("description", "获市级先进基层党组织表彰"),
        **kw,
    )


def test_record_bonus_and_deduction(setup, organizer, tree):
    bonus = record(setup, organizer, tree["a1"])
    assert bonus.kind == RecordKind.BONUS and bonus.occurrences == 1
    deduction = record(
        setup, organizer, tree["a1"], code="1.3", item="b", occurrences=2, points="1.5",
        description="两次未按时开展主题党日",
    )  # fmt: skip
    assert deduction.kind == RecordKind.DEDUCTION
    assert str(deduction.points) == "1.50"
    entry = AuditEntry.objects.filter(action="daily.create").first()
    assert entry.object_id == str(deduction.pk)
    assert entry.data["indicator"] == "1.3 严格党的组织生活"


def test_record_with_evidence_upload(setup, organizer, tree):
    rec = record(setup, organizer, tree["a1"], uploaded_file=upload("表彰文件.pdf", pdf_bytes()))
    assert rec.evidence.organization == tree["a1"]
    assert rec.evidence.name == "表彰文件.pdf"
    with pytest.raises(ValidationError) as exc:
        record(setup, organizer, tree["a1"], uploaded_file=upload("x.pdf", ELF_BYTES))
    assert "可执行程序" in exc.value.message_dict["evidence"][0]


def test_validation_messages(setup, organizer, tree):
    with pytest.raises(ValidationError) as exc:
        dsvc.create_record(
            actor=organizer,
            organization=tree["a1"],
            indicator=setup.indicators["1.1"],  # a rating, not a bonus/deduction
            item_code="a",
            occurred_on=None,
            description=" ",
            occurrences=0,
            points="-1",
        )
    errors = exc.value.message_dict
    assert errors["indicator"] == ["只能对加分、扣分类指标记录"]
    assert errors["occurrences"] == ["次数应为 1 至 1000 之间的整数"]
    assert errors["points"] == ["分值应为大于 0 的数字（最多两位小数）"]
    assert errors["occurred_on"] == ["请填写发生日期"]
    assert errors["description"] == ["请填写情况描述"]
    with pytest.raises(ValidationError) as exc:
        record(setup, organizer, tree["a1"], item="nope")
    assert exc.value.message_dict["item"] == ["请选择该指标下的事项"]
    with pytest.raises(ValidationError) as exc:
        record(setup, organizer, tree["a1"], day=dt.date.today() + dt.timedelta(days=3))
    assert exc.value.message_dict["occurred_on"] == ["发生日期不能晚于今天"]


def test_only_organizers_of_the_subtree_record(setup, sub_organizer, tree):
    record(setup, sub_organizer, tree["a1"])
    with pytest.raises(PermissionDenied):
        record(setup, sub_organizer, tree["b1"])
    with pytest.raises(PermissionDenied):
        record(setup, setup.submitters["a1"], tree["a1"])


def test_records_for_a_campaign_target(setup, organizer, tree):
    inside = record(setup, organizer, tree["a1"], day=dt.date(2025, 3, 1))
    record(setup, organizer, tree["a1"], day=dt.date(2024, 12, 31))  # before the period
    record(setup, organizer, tree["a2"], day=dt.date(2025, 3, 1))  # another unit
    DailyRecord.objects.create(
        organization=tree["a1"], indicator_code="9.9", kind=RecordKind.BONUS,
        occurred_on=dt.date(2025, 3, 1), description="不在本体系中的指标",
    )  # fmt: skip
    assert list(dsel.daily_records_for(setup.campaign, setup.targets["a1"])) == [inside]


def test_visibility(setup, organizer, outsider, tree):
    mine = record(setup, organizer, tree["a1"])
    theirs = record(setup, organizer, tree["b1"])
    assert set(dsel.visible_records(organizer)) == {mine, theirs}
    assert list(dsel.visible_records(setup.submitters["a1"])) == [mine]
    assert list(dsel.visible_records(outsider)) == [theirs]


def test_delete_needs_reason_and_is_audited(setup, organizer, tree):
    rec = record(setup, organizer, tree["a1"])
    with pytest.raises(ValidationError, match="请填写删除原因"):
        dsvc.delete_record(actor=organizer, record=rec, reason="")
    with pytest.raises(PermissionDenied):
        dsvc.delete_record(actor=setup.submitters["a1"], record=rec, reason="x")
    dsvc.delete_record(actor=organizer, record=rec, reason="录入错误")
    assert not DailyRecord.objects.exists()
    entry = AuditEntry.objects.get(action="daily.delete")
    assert entry.data["reason"] == "录入错误"


def test_item_choices_list_published_deduction_and_bonus_items(setup, organizer):
    labels = dict(dsel.item_choices(organizer))
    ind = setup.indicators
    assert f"{ind['1.3'].pk}:a" in labels and f"{ind['2.2'].pk}:city" in labels
    assert not any(k.startswith(f"{ind['1.1'].pk}:") for k in labels)


def test_pages(client, setup, organizer, tree):
    client.force_login(organizer)
    response = client.get(reverse("collection:daily_create"))
    assert response.status_code == 200
    ind = setup.indicators["2.2"]
    response = client.post(
        reverse("collection:daily_create"),
        {
            "organization": tree["a1"].pk,
            "indicator_item": f"{ind.pk}:city",
            "occurrences": "1",
            "occurred_on": "2025-05-04",
            "description": "五四表彰",
            "file": upload("表彰.pdf", pdf_bytes()),
        },
    )
    assert response.status_code == 302
    assert DailyRecord.objects.get().evidence.name == "表彰.pdf"
    response = client.post(
        reverse("collection:daily_create"),
        {
            "organization": tree["a1"].pk,
            "indicator_item": f"{ind.pk}:city",
            "occurrences": "1",
            "occurred_on": "2025-05-04",
            "description": "带可执行文件",
            "file": upload("表彰.pdf", ELF_BYTES),
        },
    )
    assert "文件内容是可执行程序" in response.content.decode()
    html = client.get(reverse("collection:daily_list") + "?kind=bonus").content.decode()
    assert "五四表彰" in html
    # The unit reads its own records, cannot add.
    client.force_login(setup.submitters["a1"])
    html = client.get(reverse("collection:daily_list")).content.decode()
    assert "五四表彰" in html and "新增记录" not in html
    assert client.get(reverse("collection:daily_create")).status_code == 403
    rec = DailyRecord.objects.get()
    url = reverse("collection:daily_delete", args=[rec.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(setup.submitters["b1"])
    assert "五四表彰" not in client.get(reverse("collection:daily_list")).content.decode()
    assert client.post(url, {"reason": "x"}).status_code == 404
    # Shown on the unit's self-assessment page.
    client.force_login(setup.submitters["a1"])
    form = reverse("collection:self_form", args=[setup.campaign.pk, setup.targets["a1"].pk])
    html = client.get(form).content.decode()
    assert "系统已记录" in html and "五四表彰" in html and "已记录 1 条" in html
