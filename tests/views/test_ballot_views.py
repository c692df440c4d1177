"""民主测评 pages: the organizer's (owner, sub-organizer who may only read, outsider, no role),
the public ballot pages (every message, CSRF, the guessing limit) and identified voting."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from kaoping.ballots import services, tokens
from kaoping.ballots.models import Appraisal, Ballot, IdentifiedVote, Token
from kaoping.campaigns.models import Stage

from ..ballot_helpers import appraisal_campaign, full_answers, open_appraisal
from ..factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(organizer, tree):
    return appraisal_campaign(organizer, tree)


@pytest.fixture
def opened(organizer, campaign):
    return open_appraisal(organizer, campaign, count=3)


def form_data(appraisal, grade=0):
    data = {}
    for target, row in full_answers(appraisal, grade).items():
        for code, value in row.items():
            data[f"a-{target}-{code}"] = str(value)
        data[f"c-{target}"] = ""
    return data


# ---- organizer pages -----------------------------------------------------------------------


def test_organizer_designs_issues_opens_and_closes(client, organizer, campaign):
    client.force_login(organizer)
    url = reverse("ballots:campaign_appraisals", args=[campaign.pk])
    page = client.get(url)
    assert page.status_code == 200 and "新建测评票" in page.content.decode()
    response = client.post(
        reverse("ballots:appraisal_create", args=[campaign.pk]),
        {"rater_group": "members", "mode": "token"},
    )
    appraisal = Appraisal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "ballots:appraisal_detail", args=[appraisal.pk]
    )
    detail = client.get(response["Location"]).content.decode()
    assert "党员对支部工作的评价" in detail and "生成并打印" in detail
    response = client.post(
        reverse("ballots:appraisal_edit", args=[appraisal.pk]),
        {"name": "党员测评", "mode": "token", "keep_Q1": "1", "keep_Q2": "1",
         "q_Q1": "满意度", "q_Q2": "支部评价", "q_overall": "总体评价", "comment": "1",
         "targets": [str(t.pk) for t in campaign.targets.all()], "min_breakdown": "5"},
    )  # fmt: skip
    appraisal.refresh_from_db()
    assert appraisal.name == "党员测评" and appraisal.questions[0]["text"] == "满意度"
    sheet = client.post(reverse("ballots:tokens_issue", args=[appraisal.pk]), {"count": "7"})
    assert sheet.status_code == 200 and "no-store" in sheet["Cache-Control"]
    html = sheet.content.decode()
    assert html.count("<svg") == 7
    codes = re.findall(r'<div class="code">([2-9A-Z]{5}-[2-9A-Z]{5})</div>', html)
    assert len(set(codes)) == 7
    assert html.count("不记名，请勿外传") == 7
    assert "http://testserver/v/" in html  # the address for typing the short code
    stored = " ".join(
        h for pair in Token.objects.values_list("token_hash", "short_hash") for h in pair
    )
    for code in codes:
        assert code.replace("-", "") not in stored
        assert Token.objects.filter(short_hash=tokens.hash_short(code)).exists()
    assert client.post(reverse("ballots:appraisal_open", args=[appraisal.pk])).status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.status == "open"
    turnout = client.get(reverse("ballots:campaign_turnout", args=[campaign.pk]))
    assert turnout.status_code == 200 and "党员测评" in turnout.content.decode()
    assert client.get(reverse("ballots:appraisal_turnout", args=[appraisal.pk])).status_code == 200
    assert client.post(reverse("ballots:appraisal_close", args=[appraisal.pk])).status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.status == "closed"


def test_void_from_the_page(client, organizer, opened):
    appraisal, _ = opened
    client.force_login(organizer)
    client.post(reverse("ballots:tokens_void", args=[appraisal.pk]), {"batch": "1"})
    assert Token.objects.filter(voided=True).count() == 3


def test_sub_organizer_reads_but_cannot_write(client, sub_organizer, opened):
    appraisal, _ = opened
    client.force_login(sub_organizer)
    assert client.get(reverse("ballots:appraisal_detail", args=[appraisal.pk])).status_code == 200
    for name in ("tokens_issue", "tokens_void", "appraisal_close", "appraisal_edit"):
        assert client.post(reverse(f"ballots:{name}", args=[appraisal.pk])).status_code == 403
    campaign = appraisal.campaign
    assert client.post(reverse("ballots:appraisal_create", args=[campaign.pk])).status_code == 403
    assert Appraisal.objects.get(pk=appraisal.pk).status == "open"


def test_outsider_and_no_role(client, outsider, norole, opened):
    appraisal, _ = opened
    client.force_login(outsider)
    assert client.post(reverse("ballots:appraisal_close", args=[appraisal.pk])).status_code == 403
    assert client.get(reverse("ballots:appraisal_detail", args=[987654])).status_code == 404
    client.force_login(norole)
    assert client.get(reverse("ballots:appraisal_detail", args=[appraisal.pk])).status_code == 403
    assert client.get(reverse("ballots:my_appraisals")).status_code == 403


# ---- public pages --------------------------------------------------------------------------


def test_vote_from_the_slip(client, opened):
    appraisal, pairs = opened
    url = reverse("vote:ballot", args=[pairs[0][0]])
    page = client.get(url)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin" and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "csrftoken" in page.cookies and "办公室党支部" in html
    assert 'data-store-key="kp-vote-' in html
    response = client.post(url, form_data(appraisal, 1))
    assert response.status_code == 302 and response["Location"] == reverse("vote:thanks")
    thanks = client.get(response["Location"]).content.decode()
    assert "感谢参与" in thanks and "办公室党支部" not in thanks
    assert Ballot.objects.count() == 1
    again = client.get(url)
    assert again.status_code == 409 and "该票已使用" in again.content.decode()
    assert client.post(url, form_data(appraisal)).status_code == 409


def test_short_code_entry(client, opened):
    appraisal, pairs = opened
    response = client.get(reverse("vote:entry"), {"code": pairs[1][1].lower()})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("vote:entry")).status_code == 200


def test_incomplete_ballot_is_shown_again(client, opened):
    appraisal, pairs = opened
    data = form_data(appraisal)
    data.pop(next(iter(data)))
    response = client.post(reverse("vote:ballot", args=[pairs[0][0]]), data)
    assert response.status_code == 400 and "请完成全部必答题" in response.content.decode()
    assert not Ballot.objects.exists() and not Token.objects.filter(used=True).exists()


def test_messages_for_unknown_voided_not_open_and_expired(client, organizer, opened, campaign):
    appraisal, pairs = opened
    unknown = client.get(reverse("vote:ballot", args=["z" * 32]))
    assert unknown.status_code == 404 and "无效的选票" in unknown.content.decode()
    Token.objects.filter(pk=Token.objects.order_by("pk")[0].pk).update(voided=True)
    voided = client.get(reverse("vote:ballot", args=[pairs[0][0]]))
    assert voided.status_code == 410 and "该票已作废" in voided.content.decode()
    draft = open_appraisal(organizer, campaign, group="masses", count=1)[0]
    Appraisal.objects.filter(pk=draft.pk).update(status="draft")
    ((token, _),) = tokens.issue_tokens(actor=organizer, appraisal=draft, count=1)
    not_open = client.get(reverse("vote:ballot", args=[token]))
    assert not_open.status_code == 403 and "测评尚未开始" in not_open.content.decode()
    services.close_appraisal(actor=organizer, appraisal=appraisal)
    expired = client.get(reverse("vote:ballot", args=[pairs[1][0]]))
    assert expired.status_code == 410 and "测评已结束" in expired.content.decode()


def test_post_needs_the_csrf_token(opened):
    appraisal, pairs = opened
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("vote:ballot", args=[pairs[0][0]]), form_data(appraisal))
    assert response.status_code == 403
    assert not Ballot.objects.exists()


def test_guessing_is_rate_limited(client, settings, opened):
    settings.KAOPING_VOTE_GUESS_LIMIT = 5
    appraisal, pairs = opened
    for i in range(5):
        assert client.get(reverse("vote:ballot", args=[f"guess{i:027d}"])).status_code == 404
    limited = client.get(reverse("vote:ballot", args=["guess" + "x" * 27]))
    assert limited.status_code == 429 and "尝试次数过多" in limited.content.decode()
    # even a real token waits: the limit is per client, not per token
    assert client.get(reverse("vote:ballot", args=[pairs[0][0]])).status_code == 429
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.get(reverse("vote:ballot", args=[pairs[0][0]])).status_code == 200


def test_public_pages_load_nothing_from_elsewhere(client, opened):
    appraisal, pairs = opened
    html = client.get(reverse("vote:ballot", args=[pairs[0][0]])).content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "htmx" not in html


# ---- identified mode -----------------------------------------------------------------------


def test_identified_member_votes_once(client, organizer, campaign, tree):
    appraisal, _ = open_appraisal(organizer, campaign, mode="identified")
    voter = UserFactory(username="voter", person=PersonFactory(organization=tree["b1"]))
    client.force_login(voter)
    listing = client.get(reverse("ballots:my_appraisals")).content.decode()
    assert appraisal.name in listing and "去投票" in listing
    url = reverse("ballots:vote_identified", args=[appraisal.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, form_data(appraisal, 2))
    assert response.status_code == 302
    assert IdentifiedVote.objects.filter(user=voter).count() == 4
    assert Ballot.objects.count() == 1
    assert client.get(url).status_code == 302  # already voted: back to the list
    assert "已投票" in client.get(reverse("ballots:my_appraisals")).content.decode()


def test_identified_refuses_other_groups(client, organizer, campaign, tree):
    appraisal, _ = open_appraisal(organizer, campaign, group="masses", mode="identified")
    member = UserFactory(username="m1", person=PersonFactory(organization=tree["a1"]))
    client.force_login(member)
    url = reverse("ballots:vote_identified", args=[appraisal.pk])
    assert client.get(url).status_code == 404


def test_campaign_stage_gate_in_the_list(client, organizer, tree):
    campaign = appraisal_campaign(organizer, tree, stage=Stage.REVIEW)
    client.force_login(organizer)
    html = client.get(reverse("ballots:campaign_appraisals", args=[campaign.pk])).content.decode()
    assert "进入“测评”阶段后才能开始投票" in html
