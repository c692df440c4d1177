"""``kaoping serve``: the production web server (granian) runs the product — health check, a
static file, signing in (session and CSRF cookies), and a ballot opened and cast from a client
address — against this test run's database. And its options are checked."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kaoping.ballots.models import Ballot, FailedLookup, Token
from kaoping.core.management.commands.serve import parse_bind

from .ballot_helpers import appraisal_campaign, full_answers, open_appraisal

ROOT = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HINT_INPUT = re.compile(r'name="ap" value="([^"]+)"')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),  # noqa: S104 - a bind address under test
        ("kaoping.example:8443", ("kaoping.example", 8443)),
        ("[::1]:8000", ("::1", 8000)),
    ],
)
def test_bind_is_parsed(value, expected):
    assert parse_bind(value) == expected


@pytest.mark.parametrize("value", ["8000", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "a b:1"])
def test_bad_bind_is_refused_in_chinese(value):
    with pytest.raises(CommandError, match="地址:端口"):
        parse_bind(value)


def test_bad_counts_are_refused():
    with pytest.raises(CommandError, match="--workers 至少为 1"):
        call_command("serve", workers=0)


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Just enough of a browser: one keep-alive connection, cookies."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response, data.decode("utf-8", "replace")


@pytest.fixture
def server(transactional_db, tmp_path):
    port = _free_port()
    env = {
        **os.environ, "DATABASE_URL": _database_url(), "KAOPING_TESTING": "1", "DEBUG": "0",
        "KAOPING_VAR": str(tmp_path), "JOBS_MODE": "immediate", "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "kaoping", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "2"],
        env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.stdout.read().decode()) from None
            time.sleep(0.2)
    yield port
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    assert "Kaoping 在 http://127.0.0.1" in out.decode()


def test_the_product_runs_under_kaoping_serve(server, organizer, tree):
    campaign = appraisal_campaign(organizer, tree)
    appraisal, pairs = open_appraisal(organizer, campaign, count=2)
    port = server

    health, body = Browser(port).request("GET", "/healthz")
    assert health.status == 200 and '"database": "ok"' in body

    static, body = Browser(port).request("GET", "/static/ballots/vote.js")
    assert static.status == 200 and "localStorage" in body

    # signing in: the login form's CSRF cookie and token, then the session cookie
    browser = Browser(port)
    page, html = browser.request("GET", "/accounts/login/")
    csrf = CSRF_INPUT.search(html).group(1)
    done, _ = browser.request(
        "POST", "/accounts/login/",
        {"csrfmiddlewaretoken": csrf, "username": organizer.username,
         "password": "Test-pass-2024!"},
    )  # fmt: skip
    assert done.status == 302 and "sessionid" in browser.cookies
    home, html = browser.request("GET", "/")
    assert home.status == 200 and "退出" in html

    # a ballot: the page, then the submit (one statement on PostgreSQL), then the same slip again
    voter = Browser(port)
    path = f"/v/{pairs[0][0]}/"
    page, html = voter.request("GET", path)
    assert page.status == 200
    form = {"csrfmiddlewaretoken": CSRF_INPUT.search(html).group(1),
            "ap": HINT_INPUT.search(html).group(1)}  # fmt: skip
    for target, row in full_answers(appraisal, 1).items():
        for code, value in row.items():
            form[f"a-{target}-{code}"] = str(value)
    cast, _ = voter.request("POST", path, form)
    assert cast.status == 302 and cast.getheader("Location").endswith("/v/thanks/")
    again, html = voter.request("GET", path)
    assert again.status == 409 and "该票已使用" in html
    assert Ballot.objects.filter(appraisal=appraisal).count() == 1
    assert Token.objects.filter(appraisal=appraisal, used=True).count() == 1

    # a wrong code is counted against the client's address
    unknown, _ = voter.request("GET", "/v/" + "x" * 32 + "/")
    assert unknown.status == 404 and FailedLookup.objects.get().count == 1
