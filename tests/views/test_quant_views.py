"""Quantitative data pages: organizers only; template download, error report, undo, manual."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.collection.models import QuantBatch

from ..review_fixtures import review_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    return review_setup(tree, organizer)


def test_pages_are_for_those_who_run_the_campaign(client, setup, sub_organizer):
    home = reverse("collection:quant_home", args=[setup.campaign.pk])
    for user in (setup.reviewer, setup.submitters["a1"], sub_organizer):
        client.force_login(user)
        assert client.get(home).status_code == 403
        assert (
            client.post(reverse("collection:quant_import", args=[setup.campaign.pk])).status_code
            == 403
        )


def test_template_import_errors_undo_and_manual(client, setup, organizer):
    client.force_login(organizer)
    pk = setup.campaign.pk
    response = client.get(reverse("collection:quant_template", args=[pk]))
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb["量化数据"]["C1"].value == "2.1 党员发展计划完成率"

    bad = SimpleUploadedFile("d.csv", "对象编码,2.1\nZB11,abc\nZB99,1\n".encode("gbk"))
    page = client.post(reverse("collection:quant_import", args=[pk]), {"file": bad})
    text = page.content.decode()
    assert "文件中有 2 个问题" in text and "“abc”不是数字" in text and "第 3 行" in text
    assert not QuantBatch.objects.exists()

    good = SimpleUploadedFile("d.csv", "对象编码,2.1\nZB11,90\n".encode())
    page = client.post(reverse("collection:quant_import", args=[pk]), {"file": good}, follow=True)
    assert "已导入 1 个数值" in page.content.decode()
    batch = QuantBatch.objects.get()

    manual = reverse("collection:quant_manual", args=[pk])
    form = client.get(manual).content.decode()
    name = f"v_{setup.targets['a1'].pk}_{setup.indicators['2.1'].pk}"
    assert f'name="{name}" value="90"' in form
    refused = client.post(manual, {name: "-"})
    assert refused.status_code == 400 and "“-”不是数字" in refused.content.decode()
    page = client.post(manual, {name: "91"}, follow=True).content.decode()
    assert "已保存 1 个数值" in page and "手工录入" in page

    page = client.post(reverse("collection:quant_undo", args=[batch.pk]), follow=True)
    assert "已撤销批次" in page.content.decode()
    batch.refresh_from_db()
    assert batch.undone_at is not None


def test_outsider_cannot_undo(client, setup, organizer, outsider):
    batch = QuantBatch.objects.create(
        campaign=setup.campaign, source_name="x", imported_by=organizer
    )
    client.force_login(outsider)
    assert client.post(reverse("collection:quant_undo", args=[batch.pk])).status_code == 404
