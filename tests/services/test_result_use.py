"""Result use (结果运用): which targets land on which list by the campaign's rules, vetoes kept off
the 评先评优 list, the 选拔任用 file's content, the Excel and PDF exports read back."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from kaoping.audit.models import AuditEntry
from kaoping.results import use, use_exports
from kaoping.results.models import ResultStatus

from ..result_use_fixtures import RULES, VETO_NAME, use_campaign


@pytest.fixture
def setup(tree, organizer):
    return use_campaign(tree, organizer)


def _codes(rows):
    return [r.target.code for r in rows]


def test_nothing_is_usable_before_approval(tree, organizer):
    s = use_campaign(tree, organizer, approve=False)
    u = use.usable(s.campaign)
    assert not u.ok and "待提交" in u.reason and "审批通过后" in u.reason
    with pytest.raises(Exception, match="审批通过后"):
        use_exports.build(u, "awards", "xlsx")


def test_no_results_yet_says_so(tree, organizer):
    from ..results_fixtures import scored_campaign

    s = scored_campaign(tree, organizer)
    u = use.usable(s.campaign)
    assert not u.ok and "尚未计算" in u.reason


@pytest.mark.parametrize("status", [ResultStatus.APPROVED, ResultStatus.PUBLISHED,
                                    ResultStatus.FINAL])  # fmt: skip
def test_approved_published_and_final_results_are_usable(setup, status):
    rs = use.usable(setup.campaign).result_set
    rs.status = status
    rs.save(update_fields=["status"])
    assert use.usable(setup.campaign).ok


def test_award_list_keeps_vetoes_and_accountability_off(setup, tree):
    u = use.usable(setup.campaign)
    awards = use.award_list(u)
    assert awards.declared
    # a1 较好 qualifies; a2 is 较好 too (capped by its veto) but vetoed; b1 is 差
    assert _codes(awards.rows) == [tree["a1"].code]
    row = awards.rows[0]
    assert (row.grade, row.rank, row.total) == ("较好", 2, pytest.approx(83))
    assert row.rules == ["评定等次为“较好” → 具备评先评优资格"]
    assert _codes(awards.excluded) == [tree["a2"].code]
    reason = awards.excluded[0].reasons[0]
    assert reason.startswith("触发一票否决") and VETO_NAME in reason


def test_accountability_list_gives_the_reason(setup, tree):
    acc = use.accountability_list(use.usable(setup.campaign))
    assert _codes(acc.rows) == [tree["a2"].code, tree["b1"].code]  # rank order
    a2, b1 = acc.rows
    assert a2.reasons == [f"触发一票否决：1.4 {VETO_NAME}（等次不高于“较好”）"]
    assert a2.vetoes == [f"1.4 {VETO_NAME}（等次不高于“较好”）"] and not a2.rectify
    assert b1.reasons == ["评定等次为“差”"] and b1.rectify  # 差 → 限期整改 too


def test_lists_follow_the_declared_rules_only(setup, tree):
    campaign = setup.campaign
    campaign.result_rules = [{"when": "grade", "value": "差", "then": "award_eligible"}]
    campaign.save(update_fields=["result_rules"])
    u = use.usable(campaign)
    assert _codes(use.award_list(u).rows) == [tree["b1"].code]
    acc = use.accountability_list(u)
    assert not acc.declared and acc.rows == []
    cf = use.cadre_files(u)
    assert not cf.declared and cf.files == []
    assert use.counts(u) == {"awards": 1}


def test_cadre_file_content(setup, tree):
    u = use.usable(setup.campaign)
    cf = use.cadre_files(u)
    assert cf.declared and len(cf.files) == 3
    assert cf.dimension_names == [("1", "政治建设"), ("2", "组织建设")]
    assert cf.ballot_groups == ["党员"]
    files = {f.target.code: f for f in cf.files}
    a1 = files[tree["a1"].code]
    sec = setup.extra["secretaries"]["a1"]
    assert a1.person == sec and a1.post == "书记" and a1.unit == tree["a1"]
    assert (a1.result.grade, a1.result.rank, a1.of) == ("较好", 2, 3)
    assert (a1.result.group_rank, a1.group_size) == (2, 2)  # 第一党总支: a1, a2
    assert [(d.name, d.score, d.points) for d in a1.dimensions] == [
        ("政治建设", pytest.approx(33), 40), ("组织建设", pytest.approx(50), 60)]  # fmt: skip
    # members' ballots: 好, 较好, 差 → 33.3 / 66.7 / 33.3 %
    (b,) = a1.ballots
    assert (b.group, b.ballots, b.shown) == ("党员", 3, True)
    assert (b.good_pct, b.satisfaction_pct, b.bad_pct) == (33.3, 66.7, 33.3)
    # the secretary's 述职评议: its approved result and the leader's comment
    d = a1.debriefing
    assert d.campaign_name == "2025 年度党支部书记述职评议" and d.grade == "好"
    assert d.total == pytest.approx(92.5) and "抓党建思路清晰" in d.comment
    assert d.commented_by == "党委书记王"
    # the unit's earlier result
    assert [(p.campaign_name, p.grade, p.rank, p.of) for p in a1.previous] == [
        ("2024 年度党建工作考核", "较好", 2, 2)]  # fmt: skip
    assert a1.rectification.tasks == [] and a1.rectification.text == "整改记录暂无"
    assert a1.use_labels == ["具备评先评优资格"]
    # a2: one ballot only — withheld below the appraisal's minimum of three
    a2 = files[tree["a2"].code]
    (b2,) = a2.ballots
    assert not b2.shown and b2.good_pct is None and "票数不足 3 张" in b2.note
    assert a2.flags == ["触发一票否决"] and VETO_NAME in a2.vetoes[0]
    assert a2.debriefing is None and a2.previous == []
    # b1: no secretary on the register; 差 → 问责 and 整改
    b1 = files[tree["b1"].code]
    assert b1.person is None and b1.person_name == "（未登记现任书记）"
    assert b1.rectification.required
    assert b1.use_labels == ["列入问责名单", "限期整改"]


def test_cadre_files_of_a_person_campaign(setup):
    """A 述职评议 over secretaries: the file is the target person's, with this result as the
    述职评议 result."""
    campaign = setup.extra["debriefing"]
    campaign.result_rules = [{"when": "any", "then": "cadre_file"}]
    campaign.save(update_fields=["result_rules"])
    cf = use.cadre_files(use.usable(campaign))
    (f,) = cf.files
    sec = setup.extra["secretaries"]["a1"]
    assert f.person == sec and f.post == "办公室主任" and f.unit == sec.organization
    assert f.debriefing.grade == "好" and f.ballot_note == use.NO_BALLOTS


def test_one_cadre_file_by_target(setup, tree):
    u = use.usable(setup.campaign)
    cf = use.cadre_files(u, target_ids=[setup.targets["b1"].pk])
    (f,) = cf.files
    assert f.target.code == tree["b1"].code and f.of == 3 and f.group_size == 1


def _sheet_rows(data):
    wb = load_workbook(io.BytesIO(data))
    return wb, [[c for c in row] for row in wb.worksheets[0].iter_rows(values_only=True)]


def test_award_workbook(setup, tree, organizer):
    u = use.usable(setup.campaign)
    out = use_exports.export(actor=organizer, u=u, kind="awards", fmt="xlsx")
    assert out.filename.endswith(".xlsx") and "评先评优资格名单" in out.filename
    wb, rows = _sheet_rows(out.data)
    ws = wb.worksheets[0]
    assert rows[0][0] == "2025 年度党建工作考核 · 评先评优资格名单"
    assert "A1:H1" in [str(r) for r in ws.merged_cells.ranges]
    assert rows[1][0].startswith("考核活动：2025 年度党建工作考核")
    assert rows[2][0].startswith("考核结果：第 1 次计算，已审批")
    assert rows[3][0].startswith("结果运用规则：") and "触发一票否决 → 列入问责名单" in rows[3][0]
    assert rows[4][0].startswith("生成时间：")
    header = rows[5]
    assert header == ["序号", "排名", "考核对象", "所属", "总分", "等次", "组内排名", "依据"]
    assert rows[6][:6] == [1, 2, tree["a1"].name, "第一党总支", 83, "较好"]
    assert len(rows) == 7
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width
    assert ws.freeze_panes == "A7"
    # the vetoed target is on the second sheet, with why
    ex = [list(r) for r in wb.worksheets[1].iter_rows(values_only=True)]
    assert ex[-1][2] == tree["a2"].name and VETO_NAME in ex[-1][6]
    entry = AuditEntry.objects.get(action="result_use.export")
    assert entry.data["what"] == "评先评优资格名单" and entry.data["format"] == "xlsx"
    assert entry.data["rows"] == 1 and len(entry.data["rules"]) == len(RULES)


def test_accountability_and_cadre_workbooks(setup, tree, organizer):
    u = use.usable(setup.campaign)
    _, rows = _sheet_rows(use_exports.build(u, "accountability", "xlsx").data)
    assert rows[5][-2:] == ["问责原因", "限期整改"]
    assert [r[2] for r in rows[6:]] == [tree["a2"].name, tree["b1"].name]
    assert rows[7][6] == "评定等次为“差”" and rows[7][7] == "是"
    _, rows = _sheet_rows(use_exports.build(u, "cadres", "xlsx").data)
    header = rows[5]
    assert header[:9] == ["序号", "姓名", "职务", "所在单位", "考核对象", "总分", "等次", "综合排名",
                          "组内排名"]  # fmt: skip
    assert "政治建设" in header and "党员满意率" in header and "述职评议" in header
    by_name = {r[4]: dict(zip(header, r, strict=True)) for r in rows[6:]}
    a1 = by_name[tree["a1"].name]
    assert a1["姓名"] == "李书记" and a1["综合排名"] == "2 / 3" and a1["党员满意率"] == 66.7
    assert a1["述职评议"].startswith("好") and "抓党建思路清晰" in a1["点评意见"]
    assert "2024 年度党建工作考核 较好 81.50 分" in a1["历次考核结果"]
    assert by_name[tree["a2"].name]["党员满意率"].startswith("票数不足")
    assert by_name[tree["b1"].name]["姓名"] == "（未登记现任书记）"


def _pdf_text(data):
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    # cells wrap: a long name may be split over lines
    return reader, "".join(p.extract_text() for p in reader.pages).replace("\n", "")


def _font_names(reader):
    names = set()
    for page in reader.pages:
        for f in page["/Resources"]["/Font"].values():
            names.add(str(f.get_object()["/BaseFont"]))
    return names


def test_list_pdfs_embed_the_chinese_font(setup, tree, organizer):
    u = use.usable(setup.campaign)
    out = use_exports.export(actor=organizer, u=u, kind="accountability", fmt="pdf")
    assert out.content_type == "application/pdf"
    reader, text = _pdf_text(out.data)
    assert b"NotoSansCJKsc-Regular" in out.data and b"/FontFile2" in out.data
    assert any("NotoSansCJKsc" in n for n in _font_names(reader))
    assert "问责名单" in text and tree["b1"].name in text and "评定等次为“差”" in text
    assert VETO_NAME in text and "第 1 页 / 共 1 页" in text and "生成日期" in text
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    _, text = _pdf_text(use_exports.build(u, "awards", "pdf").data)
    assert "具备评先评优资格的考核对象（1 个）" in text and tree["a1"].name in text
    assert AuditEntry.objects.filter(action="result_use.export", data__format="pdf").exists()


def test_cadre_pdfs_one_per_cadre_and_combined(setup, tree, organizer):
    u = use.usable(setup.campaign)
    combined = use_exports.build(u, "cadres", "pdf")
    reader, text = _pdf_text(combined.data)
    assert len(reader.pages) >= 3  # one cadre a page at least
    for name in ("李书记", "王书记", "（未登记现任书记）", "抓党建思路清晰", "整改记录暂无",
                 "2024 年度党建工作考核", "票数不足 3 张"):  # fmt: skip
        assert name in text, name
    assert f"共 {len(reader.pages)} 页" in text
    one = use_exports.export(actor=organizer, u=u, kind="cadre", fmt="pdf",
                             target_id=setup.targets["a1"].pk)  # fmt: skip
    reader, text = _pdf_text(one.data)
    assert "李书记" in one.filename and "李书记" in text and "王书记" not in text
    assert any("NotoSansCJKsc" in n for n in _font_names(reader))
    entry = AuditEntry.objects.get(action="result_use.export", data__format="pdf")
    assert entry.data["target"] == setup.targets["a1"].pk


def test_without_the_font_file_the_pdf_falls_back_to_stsong(setup, monkeypatch, caplog):
    from kaoping.results import use_fonts

    monkeypatch.setattr(use_fonts, "CJK_FONTS", [("/nonexistent/font.ttc", "X")])
    monkeypatch.setattr(use_fonts, "_fonts", type(use_fonts._fonts)())
    u = use.usable(setup.campaign)
    with caplog.at_level("WARNING"):
        data = use_exports.build(u, "awards", "pdf").data
    assert data.startswith(b"%PDF") and b"STSong-Light" in data
    assert "STSong-Light" in caplog.text


def test_open_rectification_tasks_are_in_the_file(setup, tree, organizer):
    import datetime as dt

    from kaoping.rectification.models import RectificationTask, SourceKind, TaskStatus

    RectificationTask.objects.create(
        campaign=setup.campaign, target=setup.targets["b1"], organization=tree["b1"],
        problem="三会一课落实不到位", source_kind=SourceKind.GRADE, status=TaskStatus.OPEN,
        deadline=dt.date(2020, 1, 31),
    )  # fmt: skip
    u = use.usable(setup.campaign)
    (f,) = use.cadre_files(u, target_ids=[setup.targets["b1"].pk]).files
    assert f.rectification.available and f.rectification.text == "未完成整改任务 1 项"
    (task,) = f.rectification.tasks
    assert task["problem"] == "三会一课落实不到位" and task["deadline"] == dt.date(2020, 1, 31)
    assert task["status"] == "整改中" and task["overdue"]
    _, text = _pdf_text(use_exports.build(u, "cadre", "pdf", target_id=setup.targets["b1"].pk).data)
    assert "三会一课落实不到位" in text and "2020-01-31" in text and "已逾期" in text
