from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render

from .selectors import get_job_for_user


@login_required
def job_status(request, pk):
    job = get_job_for_user(request.user, pk)
    template = "jobs/_status.html" if request.htmx else "jobs/detail.html"
    return render(request, template, {"job": job})


@login_required
def job_output(request, pk):
    job = get_job_for_user(request.user, pk)
    if not job.output_file:
        raise Http404
    name = job.result.get("filename") or job.output_file.name.rsplit("/", 1)[-1]
    return FileResponse(job.output_file.open("rb"), as_attachment=True, filename=name)
