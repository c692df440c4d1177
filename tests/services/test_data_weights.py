"""Objective (entropy) weights from a finished campaign's locked results, combined with the
designers' weights, shown and applied on a new draft of the same indicator system."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Campaign
from kaoping.engine.weights import entropy_weights
from kaoping.indicators import services as ind_services
from kaoping.indicators.data_weights import apply_data_weights, data_weights, source_campaigns
from kaoping.results import services as results

from ..results_fixtures import scored_campaign


@pytest.fixture
def finished(tree, organizer):
    setup = scored_campaign(tree, organizer)
    results.compute(actor=organizer, campaign=setup.campaign)
    results.lock(actor=organizer, campaign=setup.campaign)
    draft = ind_services.new_draft(actor=organizer, from_version=setup.version)
    return setup, draft


def test_entropy_weights_of_the_dimensions_from_the_locked_results(finished, organizer):
    setup, draft = finished
    assert list(source_campaigns(draft, Campaign.objects.all())) == [setup.campaign]
    dw = data_weights(draft, None, setup.campaign, alpha=0.5)
    assert [k.code for k in dw.kids] == ["1", "2"] and dw.targets == 3
    rs = results.current_set(setup.campaign)
    shares = np.array([[r.dimensions["1"] / 40, r.dimensions["2"] / 60] for r in rs.results.all()])
    assert dw.objective == pytest.approx(entropy_weights(shares).tolist())
    assert dw.subjective == pytest.approx([0.4, 0.6])
    assert dw.combined == pytest.approx(
        [0.5 * s + 0.5 * o for s, o in zip(dw.subjective, dw.objective, strict=True)]
    )
    assert sum(dw.combined) == pytest.approx(1)


def test_apply_stores_the_combined_weights_and_audits(finished, organizer):
    setup, draft = finished
    dw = apply_data_weights(
        actor=organizer, version=draft, parent=None, campaign=setup.campaign, alpha=0.2
    )
    kids = list(draft.indicators.filter(parent=None).order_by("position"))
    assert [float(k.weight) for k in kids] == pytest.approx(dw.combined, abs=1e-6)
    assert sum(k.points for k in kids) == draft.total_points  # points follow in a points system
    entry = AuditEntry.objects.filter(action="scheme.weights").latest("pk")
    assert entry.data["method"] == "entropy" and entry.data["alpha"] == 0.2


def test_refusals(finished, organizer):
    setup, draft = finished
    with pytest.raises(ValidationError, match="0 至 100%"):
        data_weights(draft, None, setup.campaign, alpha=1.5)
    from kaoping.results.models import ResultSet

    ResultSet.objects.filter(campaign=setup.campaign).update(status="published")
    with pytest.raises(ValidationError, match="尚未锁定"):
        data_weights(draft, None, setup.campaign)
    ResultSet.objects.filter(campaign=setup.campaign).update(status="final")
    leaf_parent = draft.indicators.get(code="1")
    dw = data_weights(draft, leaf_parent, setup.campaign)  # 1.1, 1.2, 1.3
    assert len(dw.kids) == 3


def test_the_page_shows_and_applies(client, finished, organizer):
    setup, draft = finished
    client.force_login(organizer)
    url = f"/schemes/versions/{draft.pk}/entropy/"
    page = client.get(url).content.decode()
    assert setup.campaign.name in page
    page = client.get(url, {"campaign": setup.campaign.pk, "alpha": "abc"}).content.decode()
    assert "主观权重占比应为 0 至 100 之间的数字" in page
    page = client.get(url, {"campaign": setup.campaign.pk, "alpha": "50"}).content.decode()
    assert 'data-testid="entropy-row-1"' in page and "客观权重" in page
    resp = client.post(url, {"campaign": setup.campaign.pk, "alpha": "50"})
    assert resp.status_code == 302
    assert AuditEntry.objects.filter(action="scheme.weights", data__method="entropy").exists()
    assert client.get(url, {"campaign": 999999}).status_code == 404
