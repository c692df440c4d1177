"""Reads of the ballots app shared by several modules."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum

from .models import Appraisal, TokenUse


def use_per_minute(appraisal: Appraisal) -> list[tuple[dt.datetime, int]]:
    """Tokens used per minute, in time order (the minute's shards summed)."""
    return [
        (row["minute"], row["n"])
        for row in TokenUse.objects.filter(appraisal=appraisal)
        .values("minute")
        .annotate(n=Sum("count"))
        .order_by("minute")
    ]
