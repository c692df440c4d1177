"""结果运用 in the browser: the approver opens the campaign's 结果运用 tab, reads the award and
accountability lists the declared rules produce, opens a cadre's 选拔任用 file, and downloads
the Excel list and the printable PDF (Chinese text in an embedded font)."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from kaoping.results import use

from ..factories import PASSWORD
from ..result_use_fixtures import use_campaign
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_lists_cadre_file_and_downloads(page, tree, organizer, tmp_path):
    setup = use_campaign(tree, organizer)
    campaign = setup.campaign
    login(page, setup.extra["approver"].username, PASSWORD)
    page.goto(f"/results/campaign/{campaign.pk}/")
    page.goto(f"/results/campaigns/{campaign.pk}/use/")
    expect(page.get_by_test_id("rules")).to_be_visible()
    nav = page.get_by_test_id("use-nav")

    nav.get_by_role("link", name="评先评优资格").click()
    awards = page.get_by_test_id("use-list")
    expect(awards).to_be_visible()
    eligible = [r.target.name for r in use.award_list(use.usable(campaign)).rows]
    assert eligible
    for name in eligible:
        expect(awards).to_contain_text(name)
    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    xlsx = tmp_path / info.value.suggested_filename
    info.value.save_as(xlsx)
    ws = load_workbook(xlsx).active
    cells = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert campaign.name in cells
    assert all(name in cells for name in eligible)

    nav.get_by_role("link", name="问责名单").click()
    expect(page.get_by_test_id("use-list")).to_contain_text(setup.targets["a2"].name)
    with page.expect_download() as info:
        page.get_by_test_id("export-pdf").click()
    pdf = tmp_path / "accountability.pdf"
    info.value.save_as(pdf)
    text = "".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert "问责" in text and setup.targets["a2"].name in text

    nav.get_by_role("link", name="选拔任用档案").click()
    row = page.get_by_test_id("cadre-list").locator("tr").filter(has_text="李书记").first
    row.get_by_role("link", name="查看").click()
    expect(page.get_by_test_id("cadre-file")).to_contain_text("李书记")
    expect(page.get_by_test_id("grade")).not_to_be_empty()
    expect(page.get_by_test_id("ballots")).to_be_visible()
