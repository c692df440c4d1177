"""Organization and people pages (being built)."""

from django.http import HttpResponse


def _stub(request, pk=None):
    return HttpResponse(status=501)


tree = org_create = org_detail = org_edit = org_move = org_dissolve = _stub
post_create = post_end = people = person_create = person_detail = person_edit = _stub
