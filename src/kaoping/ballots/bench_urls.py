"""The benchmark's reference view (bench/ballots.py): a bare Django view that inserts one row.

Routed only when the benchmark asks for it (``settings.KAOPING_BENCH``, or the benchmark's own
URLconf); never part of a normal installation.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Ballot, BallotSource


@csrf_exempt
@require_POST
def insert_one(request: HttpRequest, appraisal_pk: int) -> HttpResponse:
    Ballot.objects.create(
        appraisal_id=appraisal_pk, cast_on=timezone.localdate(), source=BallotSource.ONLINE
    )
    return HttpResponse("ok", content_type="text/plain")


app_name = "bench"
urlpatterns = [path("insert/<int:appraisal_pk>/", insert_one, name="insert_one")]
