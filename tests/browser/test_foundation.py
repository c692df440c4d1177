"""A new user's path through the register: log in, browse the tree, search, add a person."""

import pytest

from kaoping.accounts.models import Role
from kaoping.organizations.models import Person

from ..factories import PASSWORD, PersonFactory, UserFactory, grant, make_tree
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agency(db):
    tree = make_tree()
    for i in range(4):
        PersonFactory(organization=tree["a1"], name=f"王{'一二三四'[i]}明")
    user = UserFactory(username="zhang", full_name="张组织")
    grant(user, Role.ASSESSMENT_ADMIN, tree["root"])
    return tree, user


def test_wrong_password_then_login_and_browse_tree(page, agency):
    tree, user = agency
    login(page, "zhang", "wrong-password")
    assert page.get_by_role("alert").inner_text().startswith("用户名或密码错误")
    login(page, "zhang", PASSWORD)
    page.get_by_role("link", name="党组织").first.click()
    tree_table = page.get_by_test_id("org-tree")
    assert "第一党总支" in tree_table.inner_text()
    tree_table.get_by_role("link", name="办公室党支部").click()
    assert page.get_by_test_id("full-count").inner_text() == "4"
    assert "未配备书记" in page.content()


def test_search_people_by_pinyin_and_add_person(page, agency):
    tree, user = agency
    login(page, "zhang", PASSWORD)
    page.goto("/orgs/people/")
    page.get_by_label("搜索人员").fill("wsm")
    page.wait_for_function(
        "document.querySelector('[data-testid=people-table]').innerText.includes('王三明')"
        " && !document.querySelector('[data-testid=people-table]').innerText.includes('王一明')"
    )
    page.goto(f"/orgs/people/new/?organization={tree['a1'].pk}")
    page.get_by_label("姓名").fill("赵新")
    page.get_by_label("工号").fill("N0001")
    page.get_by_label("政治面貌").select_option(label="正式党员")
    page.get_by_label("手机号").fill("1380013800")  # one digit short
    page.get_by_role("button", name="保存").click()
    assert "手机号格式不正确" in page.locator("[data-field-error=phone]").inner_text()
    page.get_by_label("手机号").fill("13800138000")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("heading", name="赵新").wait_for()
    assert Person.objects.get(staff_no="N0001").organization_id == tree["a1"].pk
