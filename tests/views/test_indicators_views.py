"""Indicator-system pages: the owner (organizer), a sub-organizer (reads the agency's system),
an outsider, a leader (read-only), a member and users without roles; the HTMX tree editor, AHP
and publication."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kaoping.accounts.models import Role
from kaoping.indicators import services
from kaoping.indicators.models import Indicator, VersionStatus

from ..factories import UserFactory, grant
from ..services.test_indicators import valid_version

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def version(organizer, tree):
    v = services.create_scheme(actor=organizer, owner=tree["root"], name="党支部年度考核")
    top = services.add_indicator(actor=organizer, version=v, code="D1", name="政治建设", points=60)
    services.add_indicator(
        actor=organizer, version=v, parent=top, code="D1.1", name="理论学习", points=30,
        rule_kind="rating", rule_params={"max": 10},
    )  # fmt: skip
    services.add_indicator(actor=organizer, version=v, code="D2", name="组织建设", points=40)
    return v


@pytest.fixture
def leader(tree):
    user = UserFactory(username="leader", full_name="书记")
    grant(user, Role.LEADER, tree["a"])
    return user


@pytest.fixture
def other_scheme_version(outsider, tree):
    """A scheme owned by 第二党总支: invisible to 第一党总支's users."""
    return services.create_scheme(actor=outsider, owner=tree["b"], name="二总支考核")


def form_data(**overrides):
    data = {
        "code": "X",
        "name": "新指标",
        "dimension": "",
        "points": "",
        "rule_kind": "",
        "data_source": "reviewer",
        "missing_policy": "",
        "veto_effect": "",
        "veto_grade": "",
        "criteria": "",
        "rule_params_json": "",
        "rule_params_initial": "",
    }
    data.update(overrides)
    return data


# ---- permissions ---------------------------------------------------------------------------


def test_nav_entry_for_scheme_viewers(client, organizer, member):
    assert "指标体系" in login(client, organizer).get("/").content.decode()
    assert "指标体系" not in login(client, member).get("/").content.decode()


def test_scheme_list_scoped(client, version, other_scheme_version, organizer, sub_organizer):
    html = login(client, organizer).get(reverse("indicators:schemes")).content.decode()
    assert "党支部年度考核" in html and "二总支考核" in html
    html = login(client, sub_organizer).get(reverse("indicators:schemes")).content.decode()
    assert "党支部年度考核" in html and "二总支考核" not in html
    assert "基于此版新建草稿" not in html  # reads the agency's system, cannot manage it


def test_member_and_norole_get_403(client, version, member, norole):
    for user in (member, norole):
        login(client, user)
        assert client.get(reverse("indicators:schemes")).status_code == 403
        assert client.get(reverse("indicators:version", args=[version.pk])).status_code == 403


def test_outsider_gets_404(client, other_scheme_version, sub_organizer):
    login(client, sub_organizer)
    v = other_scheme_version
    ind = services.add_indicator(actor=None, version=v, code="A", name="甲")
    assert client.get(reverse("indicators:version", args=[v.pk])).status_code == 404
    assert client.get(reverse("indicators:ahp", args=[v.pk])).status_code == 404
    assert client.get(reverse("indicators:indicator_edit", args=[ind.pk])).status_code == 404
    assert client.post(reverse("indicators:indicator_delete", args=[ind.pk])).status_code == 404
    assert Indicator.objects.filter(pk=ind.pk).exists()


def test_leader_reads_but_cannot_change(client, version, leader):
    login(client, leader)
    response = client.get(reverse("indicators:version", args=[version.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "理论学习" in html and "您可以查看该指标体系，但不能修改" in html
    assert "hx-confirm" not in html and "发布" not in html.split("</nav>")[-1].split("校验报告")[0]
    ind = version.indicators.get(code="D1.1")
    assert client.get(reverse("indicators:indicator_edit", args=[ind.pk])).status_code == 403
    assert client.post(reverse("indicators:indicator_delete", args=[ind.pk])).status_code == 403
    assert client.post(reverse("indicators:publish", args=[version.pk])).status_code == 403
    assert client.post(reverse("indicators:new_draft", args=[version.pk])).status_code == 403
    url = reverse("indicators:indicator_add", args=[version.pk])
    assert client.post(url, form_data()).status_code == 403
    assert client.get(reverse("indicators:scheme_create")).status_code == 403


# ---- scheme list, create, drafts -----------------------------------------------------------


def test_create_scheme_page(client, organizer, tree):
    login(client, organizer)
    url = reverse("indicators:scheme_create")
    data = {"name": "领导班子考核", "owner": tree["root"].pk, "target_kind": "cadre",
            "weighting": "weights", "total_points": "100"}  # fmt: skip
    response = client.post(url, data)
    version = services.SchemeVersion.objects.get(scheme__name="领导班子考核")
    assert response.status_code == 302 and response.url.endswith(f"/versions/{version.pk}/")
    assert version.weighting == "weights"
    response = client.post(url, data)
    assert "已存在" in response.content.decode()


def test_sub_organizer_creates_only_under_own_subtree(client, sub_organizer, tree):
    login(client, sub_organizer)
    data = {"name": "一总支考核", "owner": tree["root"].pk, "target_kind": "organization",
            "weighting": "points", "total_points": "100"}  # fmt: skip
    response = client.post(reverse("indicators:scheme_create"), data)
    assert response.status_code == 200  # root is not a choice
    data["owner"] = tree["a"].pk
    assert client.post(reverse("indicators:scheme_create"), data).status_code == 302


def test_new_draft_from_list(client, organizer, version):
    login(client, organizer)
    response = client.post(reverse("indicators:new_draft", args=[version.pk]), {"label": "修订"})
    draft = version.scheme.versions.get(number=2)
    assert response.url == reverse("indicators:version", args=[draft.pk])
    assert draft.label == "修订" and draft.indicators.count() == 3


# ---- the tree editor -----------------------------------------------------------------------


def test_version_page_tree_and_live_totals(client, organizer, version):
    response = login(client, organizer).get(reverse("indicators:version", args=[version.pk]))
    html = response.content.decode()
    rows = [r.indicator.code for r in response.context["tree"].rows]
    assert rows == ["D1", "D1.1", "D2"]
    # D1's children add up to 30 of its 60 points: shown red.
    assert 'text-danger fw-semibold" data-testid="sum-D1"' in html
    assert "30 / 60" in html


def test_add_edit_form_and_save_returns_tree(client, organizer, version):
    login(client, organizer)
    d1 = version.indicators.get(code="D1")
    url = reverse("indicators:indicator_add", args=[version.pk]) + f"?parent={d1.pk}"
    response = client.get(url, **HX)
    assert response.templates[0].name == "indicators/_indicator_form_row.html"
    data = form_data(
        code="D1.2", name="组织生活", points="30", rule_kind="deduction", r_max="30",
        r_items="a,未按时召开支委会,2\nb,未开展主题党日,1", r_cap="30", criteria="按次扣分",
        methods=["documents", "interview"], evidence_what=["会议记录", ""],
        evidence_count=["2", "1"], evidence_optional=["0"], rw_party_committee="0.6",
        rw_members="0.4", veto_effect="ceiling", veto_grade="一般",
    )  # fmt: skip
    response = client.post(url, data, **HX)
    assert response.status_code == 200
    assert response.templates[0].name == "indicators/_tree.html"
    ind = version.indicators.get(code="D1.2")
    assert ind.parent == d1 and ind.level == 2 and ind.points == Decimal(30)
    assert ind.rule_params == {
        "max": 30, "cap": 30,
        "items": [{"code": "a", "name": "未按时召开支委会", "per": 2},
                  {"code": "b", "name": "未开展主题党日", "per": 1}],
    }  # fmt: skip
    assert ind.evidence == [{"what": "会议记录", "count": 2, "optional": True}]
    assert ind.rater_weights == {"party_committee": 0.6, "members": 0.4}
    assert ind.veto == {"effect": "ceiling", "grade": "一般"}
    assert 'data-testid="sum-D1"' in response.content.decode()
    # The edit form starts from the stored values, friendly fields included.
    edit = client.get(reverse("indicators:indicator_edit", args=[ind.pk]), **HX).content.decode()
    assert "a,未按时召开支委会,2" in edit and "会议记录" in edit


def test_form_errors_swap_back_into_the_row(client, organizer, version):
    login(client, organizer)
    ind = version.indicators.get(code="D1.1")
    url = reverse("indicators:indicator_edit", args=[ind.pk])
    response = client.post(
        url, form_data(code="D2", name="理论学习", rule_kind="rating", r_max=""), **HX
    )
    assert response["HX-Retarget"] == f"#ind-{ind.pk}"
    html = response.content.decode()
    assert "已存在" in html and "满分" in html


def test_json_parameters_win_when_changed(client, organizer, version):
    login(client, organizer)
    ind = version.indicators.get(code="D1.1")
    url = reverse("indicators:indicator_edit", args=[ind.pk])
    data = form_data(code="D1.1", name="理论学习", points="30", rule_kind="linear",
                     rule_params_json='{"floor": 60, "target": 95}',
                     rule_params_initial='{"max": 10}')  # fmt: skip
    client.post(url, data, **HX)
    ind.refresh_from_db()
    assert (ind.rule_kind, ind.rule_params) == ("linear", {"floor": 60, "target": 95})


def test_reorder_move_delete(client, organizer, version):
    login(client, organizer)
    d2 = version.indicators.get(code="D2")
    client.post(reverse("indicators:indicator_move", args=[d2.pk]), {"direction": "up"}, **HX)
    assert list(version.indicators.filter(level=1).order_by("position").values_list("code", flat=True)) == ["D2", "D1"]  # fmt: skip
    d11 = version.indicators.get(code="D1.1")
    url = reverse("indicators:indicator_move", args=[d11.pk])
    response = client.post(url, {"new_parent": d2.pk, "position": "-1"}, **HX)
    assert response.status_code == 200
    d11.refresh_from_db()
    assert d11.parent == d2
    response = client.post(url, {"new_parent": d11.pk, "position": "-1"}, **HX)
    assert response.status_code == 200  # refused: not a choice (itself)
    d11.refresh_from_db()
    assert d11.parent == d2
    response = client.post(reverse("indicators:indicator_delete", args=[d2.pk]), **HX)
    assert response.status_code == 200
    assert list(version.indicators.values_list("code", flat=True)) == ["D1"]


def test_delete_button_asks_for_confirmation_in_chinese(client, organizer, version):
    html = login(client, organizer).get(reverse("indicators:version", args=[version.pk]))
    assert "确定删除“D1 政治建设”及其全部下级指标吗？" in html.content.decode()


def test_confirm_proposed_rule_button(client, organizer, version):
    ind = services.add_indicator(
        actor=organizer, version=version, code="D2.1", name="发展党员",
        parent=version.indicators.get(code="D2"),
        proposed_rule={"kind": "rating", "max": 40},
    )  # fmt: skip
    login(client, organizer)
    html = client.get(reverse("indicators:version", args=[version.pk])).content.decode()
    assert "确认采用" in html
    client.post(reverse("indicators:confirm_rule", args=[ind.pk]), **HX)
    ind.refresh_from_db()
    assert ind.rule_kind == "rating" and ind.proposed_rule == {}


# ---- AHP -----------------------------------------------------------------------------------


def _matrix_post(values, method="eigenvector"):
    data = {"method": method}
    data.update(values)
    return data


def test_ahp_compute_names_the_inconsistent_pair(client, organizer, tree):
    v = services.create_scheme(actor=organizer, owner=tree["root"], name="W", weighting="weights")
    for code, name in [("A", "政治建设"), ("B", "组织建设"), ("C", "作风建设")]:
        services.add_indicator(actor=organizer, version=v, code=code, name=name)
    login(client, organizer)
    page = client.get(reverse("indicators:ahp", args=[v.pk])).content.decode()
    assert 'name="a_0_1"' in page and 'id="r_1_0"' in page and "1/9 极端次要" in page
    url = reverse("indicators:ahp_compute", args=[v.pk])
    html = client.post(url, _matrix_post({"a_0_1": "9", "a_0_2": "1/9", "a_1_2": "9"}), **HX)
    html = html.content.decode()
    assert "≥ 0.1，请重新考虑“" in html and "disabled" in html
    ok = _matrix_post({"a_0_1": "2", "a_0_2": "4", "a_1_2": "2"})
    assert "一致性检验通过" in client.post(url, ok, **HX).content.decode()
    response = client.post(reverse("indicators:ahp", args=[v.pk]), ok)
    assert response.status_code == 302
    weights = list(v.indicators.order_by("position").values_list("weight", flat=True))
    assert sum(weights) == 1 and weights[0] > weights[1] > weights[2]
    v.refresh_from_db()
    assert v.options["ahp"]["_root"]["children"] == ["A", "B", "C"]
    page = client.get(reverse("indicators:ahp", args=[v.pk])).content.decode()
    assert '<option value="4" selected>' in page  # the stored matrix comes back


def test_ahp_apply_refused_when_inconsistent(client, organizer, version):
    d3 = services.add_indicator(actor=organizer, version=version, code="D3", name="作风建设")
    assert d3
    login(client, organizer)
    url = reverse("indicators:ahp", args=[version.pk])
    response = client.post(url, _matrix_post({"a_0_1": "9", "a_0_2": "1/9", "a_1_2": "9"}))
    assert response.status_code == 200
    assert "请重新考虑" in response.content.decode()
    assert version.indicators.get(code="D1").points == 60


# ---- publication ---------------------------------------------------------------------------


def test_publish_with_errors_shows_the_report(client, organizer, version):
    login(client, organizer)
    response = client.post(reverse("indicators:publish", args=[version.pk]), follow=True)
    html = response.content.decode()
    assert "阻断性问题" in html and "查看完整校验报告" in html
    assert reverse("indicators:validation", args=[version.pk]) in html
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_publish_then_read_only_and_edits_refused(client, organizer, tree):
    version = valid_version(organizer, tree["root"])
    login(client, organizer)
    response = client.post(reverse("indicators:publish", args=[version.pk]), follow=True)
    assert "已发布" in response.content.decode()
    version.refresh_from_db()
    assert version.is_published
    html = client.get(reverse("indicators:version", args=[version.pk])).content.decode()
    assert "hx-confirm" not in html and "内容已冻结" in html
    ind = version.indicators.get(code="D1.1")
    response = client.post(
        reverse("indicators:indicator_edit", args=[ind.pk]), form_data(code="Z"), follow=True
    )
    assert "已发布的版本不能修改，请基于它新建草稿" in response.content.decode()
    response = client.post(reverse("indicators:indicator_delete", args=[ind.pk]), **HX)
    assert response["HX-Redirect"] == reverse("indicators:version", args=[version.pk])
    ind.refresh_from_db()
    assert ind.code == "D1.1"


def test_placeholders_reserved(client, organizer, version):
    login(client, organizer)
    for name in ("import", "export", "validation", "diff"):
        assert reverse(f"indicators:{name}", args=[version.pk])


def test_edit_page_without_htmx_and_weight_in_percent(client, organizer, tree):
    v = services.create_scheme(actor=organizer, owner=tree["root"], name="W", weighting="weights")
    ind = services.add_indicator(actor=organizer, version=v, code="A", name="甲", weight=1)
    login(client, organizer)
    url = reverse("indicators:indicator_edit", args=[ind.pk])
    response = client.get(url)
    assert response.templates[0].name == "indicators/indicator_page.html"
    assert 'name="weight_percent" value="100"' in response.content.decode()
    response = client.post(url, form_data(code="A", name="甲", weight_percent="40"))
    assert response.status_code == 302
    ind.refresh_from_db()
    assert ind.weight == Decimal("0.4")


def test_ahp_in_points_version_converts_to_points(client, organizer, version):
    login(client, organizer)
    d1 = version.indicators.get(code="D1")
    services.add_indicator(
        actor=organizer, version=version, parent=d1, code="D1.2", name="学习成效",
        rule_kind="rating", rule_params={"max": 10},
    )  # fmt: skip
    url = reverse("indicators:ahp", args=[version.pk]) + f"?parent={d1.pk}"
    assert "应用后按权重折算分值" in client.get(url).content.decode()
    assert client.post(url, {"method": "eigenvector", "a_0_1": "2"}).status_code == 302
    points = list(d1.children.order_by("position").values_list("points", flat=True))
    assert points == [Decimal(40), Decimal(20)]


# ---- version settings ----------------------------------------------------------------------


def settings_data(**overrides):
    data = {
        "label": "2025 修订",
        "total_points": "100",
        "grade_label": ["优秀", "合格", "不合格", ""],
        "grade_threshold": ["90", "60", "", ""],
        "rw_party_committee": "60",
        "rw_members": "40",
        "ballot_label": ["满意", "基本满意", "不满意"],
        "ballot_coefficient": ["100", "60", "0"],
    }
    data.update(overrides)
    return data


def test_settings_page_saves_and_version_page_shows_them(client, organizer, version):
    login(client, organizer)
    url = reverse("indicators:settings", args=[version.pk])
    html = client.get(url).content.decode()
    assert 'name="grade_label" value="较好"' in html and 'name="grade_threshold" value="80"' in html
    assert 'name="rw_party_committee"' in html and 'value="100"' in html
    assert 'name="ballot_coefficient" value="40"' in html and "添加一行" in html
    response = client.post(url, settings_data())
    assert response.status_code == 302 and response.url == reverse(
        "indicators:version", args=[version.pk]
    )
    version.refresh_from_db()
    assert version.label == "2025 修订"
    assert version.options["grades"] == ["优秀", "合格", "不合格"]
    assert version.options["grade_thresholds"] == [90, 60]
    assert version.options["rater_weights"] == {"party_committee": 0.6, "members": 0.4}
    assert version.options["ballot_grades"][2] == {"label": "不满意", "coefficient": 0}
    html = client.get(response.url).content.decode()
    summary = html.split('data-testid="version-settings"')[1].split("</details>")[0]
    assert "优秀：≥ 90" in summary and "不合格：&lt; 60" in summary
    assert "机关党委 60%" in summary and "党员 40%" in summary and "基本满意 = 60" in summary
    assert reverse("indicators:settings", args=[version.pk]) in html


def test_settings_page_errors_stay_under_their_section(client, organizer, version):
    login(client, organizer)
    url = reverse("indicators:settings", args=[version.pk])
    data = settings_data(rw_members="30", grade_threshold=["60", "90", ""], total_points="0")
    html = client.post(url, data).content.decode()
    assert 'data-field-error="rater_weights">评价主体权重合计 90.00%，应为 100%' in html
    assert "“优秀”应高于“合格”" in html and "总分应大于 0" in html
    assert 'name="grade_threshold" value="90"' in html  # the posted rows come back
    data = settings_data(grade_threshold=["90", "60", "30"])
    html = client.post(url, data).content.decode()
    assert "最后一个等次（不合格）不设分数线" in html
    version.refresh_from_db()
    assert version.options["grades"] == ["好", "较好", "一般", "差"] and version.label == ""


def test_settings_page_permissions(client, version, leader, sub_organizer, other_scheme_version):
    url = reverse("indicators:settings", args=[version.pk])
    login(client, leader)
    assert client.get(url).status_code == 403
    assert client.post(url, settings_data()).status_code == 403
    html = client.get(reverse("indicators:version", args=[version.pk])).content.decode()
    assert 'data-testid="version-settings"' in html and url not in html  # read-only summary
    login(client, sub_organizer)
    assert client.get(url).status_code == 403  # reads the agency's system, cannot manage it
    other = reverse("indicators:settings", args=[other_scheme_version.pk])
    assert client.get(other).status_code == 404
    assert client.post(other, settings_data()).status_code == 404
    version.refresh_from_db()
    assert version.label == ""


def test_settings_page_refused_on_published(client, organizer, tree):
    version = valid_version(organizer, tree["root"])
    services.publish(actor=organizer, version=version)
    login(client, organizer)
    url = reverse("indicators:settings", args=[version.pk])
    response = client.post(url, settings_data(), follow=True)
    assert "已发布的版本不能修改，请基于它新建草稿" in response.content.decode()
    assert client.get(url).status_code == 302
    version.refresh_from_db()
    assert version.label == "" and version.options["grades"][0] == "好"
    html = client.get(reverse("indicators:version", args=[version.pk])).content.decode()
    assert 'data-testid="version-settings"' in html and url not in html


def test_settings_page_in_weights_version_has_no_total(client, organizer, tree):
    v = services.create_scheme(actor=organizer, owner=tree["root"], name="W", weighting="weights")
    login(client, organizer)
    url = reverse("indicators:settings", args=[v.pk])
    assert 'name="total_points"' not in client.get(url).content.decode()
    data = settings_data(ballot_label=[], ballot_coefficient=[])
    del data["total_points"]
    assert client.post(url, data).status_code == 302
    v.refresh_from_db()
    assert v.total_points == 100 and "ballot_grades" not in v.options


# ---- direct weight entry -------------------------------------------------------------------


def test_weights_page_in_points_version(client, organizer, version):
    login(client, organizer)
    d1 = version.indicators.get(code="D1")
    services.add_indicator(
        actor=organizer, version=version, parent=d1, code="D1.2", name="学习成效",
        rule_kind="rating", rule_params={"max": 10},
    )  # fmt: skip
    tree_html = client.get(reverse("indicators:version", args=[version.pk])).content.decode()
    url = reverse("indicators:weights", args=[version.pk]) + f"?parent={d1.pk}"
    assert url.replace("&", "&amp;") in tree_html and "一级指标分值（直接录入）" in tree_html
    html = client.get(url).content.decode()
    assert "合计应等于“政治建设”的分值 60" in html and 'data-sum-target="60.00"' in html
    d11, d12 = version.indicators.get(code="D1.1"), version.indicators.get(code="D1.2")
    assert f'name="w_{d11.pk}" value="30"' in html
    response = client.post(url, {f"w_{d11.pk}": "35", f"w_{d12.pk}": "20"})
    assert "同级指标分值合计 55，应等于“政治建设”的分值 60" in response.content.decode()
    response = client.post(url, {f"w_{d11.pk}": "35", f"w_{d12.pk}": "25"})
    assert response.status_code == 302
    d11.refresh_from_db()
    assert (d11.points, d11.weight) == (Decimal(35), Decimal("0.583333"))
    # Level 1 against the version's total.
    root_url = reverse("indicators:weights", args=[version.pk])
    d2 = version.indicators.get(code="D2")
    assert client.post(root_url, {f"w_{d1.pk}": "70", f"w_{d2.pk}": "30"}).status_code == 302
    d2.refresh_from_db()
    assert d2.points == 30 and d2.weight == Decimal("0.3")


def test_weights_page_in_weights_version_takes_percent(client, organizer, tree):
    v = services.create_scheme(actor=organizer, owner=tree["root"], name="W", weighting="weights")
    a = services.add_indicator(actor=organizer, version=v, code="A", name="甲")
    b = services.add_indicator(actor=organizer, version=v, code="B", name="乙")
    services.add_indicator(
        actor=organizer, version=v, code="Z", name="加分", rule_kind="bonus",
        rule_params={"cap": 2, "items": [{"code": "x", "per": 1}]},
    )  # fmt: skip
    login(client, organizer)
    url = reverse("indicators:weights", args=[v.pk])
    html = client.get(url).content.decode()
    assert (
        "一级指标权重（直接录入）"
        in client.get(reverse("indicators:version", args=[v.pk])).content.decode()
    )
    assert 'data-sum-target="100"' in html and "不参与分配：Z 加分" in html
    assert f'name="w_{a.pk}"' in html and 'name="w_' + str(b.pk) + '"' in html
    response = client.post(url, {f"w_{a.pk}": "62.5", f"w_{b.pk}": "30"})
    assert "同级指标权重合计 92.50%，应为 100%" in response.content.decode()
    response = client.post(url, {f"w_{a.pk}": "62.5", f"w_{b.pk}": ""})
    assert response.status_code == 200 and "必填" in response.content.decode()
    assert client.post(url, {f"w_{a.pk}": "62.5", f"w_{b.pk}": "37.5"}).status_code == 302
    a.refresh_from_db()
    assert a.weight == Decimal("0.625")
    assert f'name="w_{a.pk}" value="62.5"' in client.get(url).content.decode()


def test_weights_page_permissions(client, version, leader, sub_organizer, other_scheme_version):
    url = reverse("indicators:weights", args=[version.pk])
    d1, d2 = version.indicators.get(code="D1"), version.indicators.get(code="D2")
    data = {f"w_{d1.pk}": "50", f"w_{d2.pk}": "50"}
    login(client, leader)
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    assert (
        "直接录入"
        not in client.get(reverse("indicators:version", args=[version.pk])).content.decode()
    )
    login(client, sub_organizer)
    assert client.post(url, data).status_code == 403
    other = reverse("indicators:weights", args=[other_scheme_version.pk])
    assert client.get(other).status_code == 404
    d1.refresh_from_db()
    assert d1.points == 60


def test_weights_page_unknown_parent_and_published(client, organizer, tree, version):
    login(client, organizer)
    url = reverse("indicators:weights", args=[version.pk])
    assert client.get(url + "?parent=abc").status_code == 404
    assert client.get(url + "?parent=999999").status_code == 404
    leaf = version.indicators.get(code="D1.1")
    assert "没有需要设置分值的下级指标" in client.get(url + f"?parent={leaf.pk}").content.decode()
    published = valid_version(organizer, tree["root"], name="已发布体系")
    services.publish(actor=organizer, version=published)
    url = reverse("indicators:weights", args=[published.pk])
    data = {f"w_{i.pk}": "12.5" for i in published.indicators.filter(level=1)}
    response = client.post(url, data, follow=True)
    assert "已发布的版本不能修改，请基于它新建草稿" in response.content.decode()
    assert published.indicators.get(code="D1").points == 15


# ---- evidence rows -------------------------------------------------------------------------


def test_evidence_rows_added_in_the_page(client, organizer, version):
    login(client, organizer)
    html = client.get(reverse("indicators:indicator_add", args=[version.pk]), **HX)
    html = html.content.decode()
    assert html.count('name="evidence_what"') == 2  # one blank row, and the row template
    assert "添加一行" in html and "data-remove-row" in html
    ind = version.indicators.get(code="D1.1")
    url = reverse("indicators:indicator_edit", args=[ind.pk])
    data = form_data(
        code="D1.1", name="理论学习", points="30", rule_kind="rating", r_max="10",
        evidence_what=["学习记录", "心得体会", "", "考勤表"], evidence_count=["1", "3", "1", "2"],
        evidence_optional=["1", "3"],
    )  # fmt: skip
    client.post(url, data, **HX)
    ind.refresh_from_db()
    assert ind.evidence == [
        {"what": "学习记录", "count": 1, "optional": False},
        {"what": "心得体会", "count": 3, "optional": True},
        {"what": "考勤表", "count": 2, "optional": True},
    ]
    html = client.get(url, **HX).content.decode()
    assert html.count('name="evidence_what"') == 4  # three stored rows, no blank row added
    assert 'name="evidence_optional" value="2" data-row-index checked' in html
