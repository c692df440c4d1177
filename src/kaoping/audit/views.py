from django.http import HttpResponse


def audit_log(request):
    return HttpResponse(status=501)
