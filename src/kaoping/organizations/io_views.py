"""Excel import and export views (being built)."""

from django.http import HttpResponse


def import_upload(request):
    return HttpResponse(status=501)


def import_template(request):
    return HttpResponse(status=501)


def import_status(request, job_id):
    return HttpResponse(status=501)


def export(request):
    return HttpResponse(status=501)
