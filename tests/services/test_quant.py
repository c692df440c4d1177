"""Quantitative data: template round trip, CSV in UTF-8 (with BOM) and GBK, every error at once
with nothing written, batches with undo, manual entry, and the value that counts."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Campaign, Stage
from kaoping.collection import quant_io
from kaoping.collection import quant_selectors as selectors
from kaoping.collection import quant_services as services
from kaoping.collection.models import QuantBatch, QuantValue
from kaoping.indicators.constants import DataSource
from kaoping.indicators.models import Indicator

from ..review_fixtures import review_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    setup = review_setup(tree, organizer)
    parent = setup.indicators["2"]
    # A completion rate (cannot be negative) next to 2.1 (linear); the version is published, so
    # the extra leaf is written in bulk, past Indicator.save's guard.
    (extra,) = Indicator.objects.bulk_create(
        [
            Indicator(
                version=setup.version, parent=parent, code="2.4", name="整改完成率", level=2,
                position=9, points=10, rule_kind="ratio_to_target", rule_params={"target": 100},
                data_source=DataSource.QUANTITATIVE,
            )
        ]
    )  # fmt: skip
    setup.indicators["2.4"] = extra
    return setup


def _import(setup, actor, name, data):
    return services.import_values(actor=actor, campaign=setup.campaign, filename=name, data=data)


def _values(setup):
    codes = {i.pk: i.code for i in setup.indicators.values()}
    targets = {t.pk: t.code for t in setup.targets.values()}
    return {
        (targets[t], codes[i]): v for (t, i), v in selectors.current_values(setup.campaign).items()
    }


def test_quant_indicators_are_the_data_leaves(setup):
    assert [i.code for i in selectors.quant_indicators(setup.campaign)] == ["2.1", "2.4"]


def test_template_round_trip(setup, organizer):
    wb = quant_io.template_workbook(
        sorted(setup.targets.values(), key=lambda t: t.code),
        selectors.quant_indicators(setup.campaign),
        {},
    )
    ws = wb[quant_io.SHEET]
    assert [c.value for c in ws[1]] == [
        "对象编码",
        "对象名称",
        "2.1 党员发展计划完成率",
        "2.4 整改完成率",
    ]
    assert [ws.cell(row=r, column=1).value for r in (2, 3, 4)] == ["ZB11", "ZB12", "ZB21"]
    ws["C2"], ws["D2"], ws["C3"] = 92.5, 100, 80
    buf = io.BytesIO()
    wb.save(buf)
    report = _import(setup, organizer, "量化数据.xlsx", buf.getvalue())
    assert report.ok and report.batch.rows == 3 and not report.batch.manual
    assert _values(setup) == {
        ("ZB11", "2.1"): Decimal("92.5"), ("ZB11", "2.4"): Decimal("100"),
        ("ZB12", "2.1"): Decimal("80"),
    }  # fmt: skip
    entry = AuditEntry.objects.get(action="quant.import")
    assert entry.data["文件"] == "量化数据.xlsx" and entry.data["数值"] == 3
    # The template downloaded again carries the current values.
    again = quant_io.template_workbook(
        sorted(setup.targets.values(), key=lambda t: t.code),
        selectors.quant_indicators(setup.campaign),
        selectors.current_values(setup.campaign),
    )
    assert again[quant_io.SHEET]["C2"].value == 92.5
    assert load_workbook(io.BytesIO(buf.getvalue()))[quant_io.HELP_SHEET]["A9"].value == "2.1"


CSV = "对象编码,对象名称,2.1 党员发展计划完成率,2.4 整改完成率\r\nZB11,办公室党支部,88,95.5\r\nZB12,财务处党支部,,100\r\n"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_gbk(setup, organizer, encoding):
    report = _import(setup, organizer, "data.csv", CSV.encode(encoding))
    assert report.ok, report.errors
    assert _values(setup) == {
        ("ZB11", "2.1"): Decimal("88"), ("ZB11", "2.4"): Decimal("95.5"),
        ("ZB12", "2.4"): Decimal("100"),
    }  # fmt: skip


def test_long_format_is_accepted(setup, organizer):
    data = "对象编码\t对象名称\t指标编码\t指标名称\t数值\nZB21\t法规处党支部\t2.1\t\t70\n"
    report = _import(setup, organizer, "long.csv", data.encode("gbk"))
    assert report.ok and _values(setup) == {("ZB21", "2.1"): Decimal("70")}


def test_every_error_at_once_and_nothing_written(setup, organizer):
    data = (
        "2025 年量化数据\n"
        "对象编码,对象名称,2.1 党员发展计划完成率,2.4 整改完成率,1.1 学习,9.9 不存在\n"
        "ZB11,办公室党支部,九十,-5,,\n"
        "ZB99,不存在的支部,80,,,\n"
        "ZB11,办公室党支部,80,,,\n"
        ",缺编码,80,,,\n"
        "ZB12,财务处党支部,80.123456,,,\n"
    ).encode()
    report = _import(setup, organizer, "bad.csv", data)
    assert not report.ok
    got = [(e.row, e.letter, e.message) for e in report.errors]
    assert got == [
        (2, "E", "“1.1 学习贯彻党的创新理论”不是量化数据指标"),
        (2, "F", "未知指标“9.9 不存在”"),
        (3, "C", "“九十”不是数字"),
        (3, "D", "“2.4 整改完成率”不能为负数"),
        (4, "A", "本次考核没有编码为“ZB99”的对象"),
        (5, "A", "对象“ZB11”与第 3 行重复"),
        (6, "A", "对象编码为空"),
        (7, "C", "最多保留四位小数"),
    ]
    assert not QuantBatch.objects.exists() and not QuantValue.objects.exists()
    assert not AuditEntry.objects.filter(action="quant.import").exists()


def test_unreadable_files_are_reported(setup, organizer):
    assert (
        _import(setup, organizer, "x.xls", b"\xd0\xcf\x11\xe0")
        .errors[0]
        .message.startswith("请上传 .xlsx 或 .csv")
    )
    assert "无法读取" in _import(setup, organizer, "x.xlsx", b"PK\x03\x04garbage").errors[0].message
    assert "表头" in _import(setup, organizer, "x.csv", b"a,b\n1,2\n").errors[0].message
    assert not QuantBatch.objects.exists()


def test_undo_withdraws_a_batch(setup, organizer):
    first = _import(setup, organizer, "a.csv", "对象编码,2.1\nZB11,80\nZB12,70\n".encode()).batch
    second = _import(setup, organizer, "b.csv", "对象编码,2.1\nZB11,90\n".encode()).batch
    assert _values(setup) == {("ZB11", "2.1"): Decimal("90"), ("ZB12", "2.1"): Decimal("70")}
    services.undo_batch(actor=organizer, batch=second)
    second.refresh_from_db()
    assert second.undone_at and second.undone_by == organizer
    assert _values(setup) == {("ZB11", "2.1"): Decimal("80"), ("ZB12", "2.1"): Decimal("70")}
    entry = AuditEntry.objects.get(action="quant.undo")
    assert entry.object_id == str(second.pk) and entry.data["来源"] == "b.csv"
    with pytest.raises(ValidationError):
        services.undo_batch(actor=organizer, batch=second)
    services.undo_batch(actor=organizer, batch=first)
    assert _values(setup) == {}


def test_manual_entry_writes_only_changes_as_a_manual_batch(setup, organizer):
    t, i21, i24 = setup.targets["a1"], setup.indicators["2.1"], setup.indicators["2.4"]
    t2 = setup.targets["a2"]
    batch, errors = services.enter_values(
        actor=organizer, campaign=setup.campaign, values={(t.pk, i21.pk): "85", (t.pk, i24.pk): ""}
    )
    assert not errors and batch.manual and batch.rows == 1 and batch.source_name == "手工录入"
    batch, errors = services.enter_values(
        actor=organizer, campaign=setup.campaign, values={(t.pk, i21.pk): "85.0"}
    )
    assert batch is None and not errors  # unchanged
    batch, errors = services.enter_values(
        actor=organizer,
        campaign=setup.campaign,
        values={(t.pk, i21.pk): "86", (t2.pk, i24.pk): "-1", (t2.pk, i21.pk): "x"},
    )
    assert batch is None and errors == {
        (t2.pk, i24.pk): "“2.4 整改完成率”不能为负数",
        (t2.pk, i21.pk): "“x”不是数字",
    }
    assert _values(setup) == {("ZB11", "2.1"): Decimal("85")}
    assert AuditEntry.objects.get(action="quant.manual").data["明细"][0]["新值"] == "85.0000"


def test_current_values_is_one_query_and_picks_newest_not_undone(
    setup, organizer, django_assert_num_queries
):
    for value in ("60", "70", "80"):
        _import(
            setup, organizer, f"{value}.csv", f"对象编码,2.1,2.4\nZB11,{value},{value}\n".encode()
        )
    newest = QuantBatch.objects.order_by("-id").first()
    services.undo_batch(actor=organizer, batch=newest)
    with django_assert_num_queries(1):
        values = selectors.current_values(setup.campaign)
    assert sorted(values.values()) == [Decimal("70"), Decimal("70")]


def test_only_those_who_run_the_campaign_and_not_after_publication(setup, organizer, sub_organizer):
    with pytest.raises(PermissionDenied):
        _import(setup, sub_organizer, "a.csv", "对象编码,2.1\nZB11,80\n".encode())
    Campaign.objects.filter(pk=setup.campaign.pk).update(status=Stage.PUBLICATION)
    setup.campaign.refresh_from_db()
    with pytest.raises(ValidationError):
        _import(setup, organizer, "a.csv", "对象编码,2.1\nZB11,80\n".encode())
