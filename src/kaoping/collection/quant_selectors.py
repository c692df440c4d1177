"""Reads over quantitative data: which indicators take data, the values that count now, and
the history of batches."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from kaoping.indicators.constants import DataSource, RuleKind
from kaoping.indicators.selectors import ordered

from .models import QuantBatch, QuantValue

VALUE_KINDS = frozenset(
    {RuleKind.LINEAR, RuleKind.RATIO_TO_TARGET, RuleKind.RATIO_TO_BEST, RuleKind.BANDED}
)


def quant_indicators(campaign: Any) -> list[Any]:
    """The leaves of the campaign's system that take measured data, in tree order."""
    inds = ordered(campaign.scheme_version)
    parents = {i.parent_id for i in inds if i.parent_id}
    return [
        i
        for i in inds
        if i.pk not in parents
        and (i.data_source == DataSource.QUANTITATIVE or i.rule_kind in VALUE_KINDS)
        and i.rule_kind not in (RuleKind.BALLOT, RuleKind.VETO)
    ]


def current_values(campaign: Any) -> dict[tuple[int, int], Decimal]:
    """The value that counts per (target id, indicator id): the newest among the batches not
    undone. One query (a window function; SQLite ≥ 3.25 and PostgreSQL)."""
    rows = (
        QuantValue.objects.filter(batch__campaign=campaign, batch__undone_at__isnull=True)
        .annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("target_id"), F("indicator_id")],
                order_by=[F("batch_id").desc()],
            )
        )
        .filter(newest=1)
        .values_list("target_id", "indicator_id", "value")
    )
    return {(t, i): v for t, i, v in rows}


def batches(campaign: Any) -> QuerySet[QuantBatch]:
    return QuantBatch.objects.filter(campaign=campaign).select_related("imported_by", "undone_by")


def get_batch_for_user(user: Any, pk: Any) -> QuantBatch:
    """A batch of a campaign the user runs (404 otherwise: outsiders never learn it exists)."""
    from django.http import Http404

    from kaoping import policy

    try:
        batch = QuantBatch.objects.select_related("campaign", "campaign__owner").get(
            pk=pk, campaign__in=policy.visible_campaigns(user)
        )
    except (ValueError, TypeError, QuantBatch.DoesNotExist) as exc:
        raise Http404 from exc
    if not policy.can_manage_campaign(user, batch.campaign):
        raise Http404
    return batch
