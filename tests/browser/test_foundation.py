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


def _register(tmp_path, phone):
    from ..xlsx import make_xlsx

    buf = make_xlsx(
        orgs=[
            ["ZB13", "人事处党支部", "党支部", "ZZ1", "人事处", "2020-03-01", "正常", "", "", ""]
        ],
        people=[
            [
                "R001",
                "陈一",
                "男",
                "ZB13",
                "正式党员",
                "处长",
                "是",
                "处级",
                "人事处",
                "13900000001",
                "是",
            ],
            ["R002", "陈二", "女", "ZB13", "预备党员", "科员", "否", "", "人事处", phone, "是"],
            ["R003", "陈三", "女", "ZB99", "正式党员", "科员", "否", "", "人事处", "", "是"],
        ],
    )
    path = tmp_path / "名册.xlsx"
    path.write_bytes(buf.getvalue())
    return path


def test_import_with_bad_rows_shows_every_error_then_fixed_file_imports(page, agency, tmp_path):
    login(page, "zhang", PASSWORD)
    page.get_by_role("link", name="党组织").first.click()
    page.get_by_role("link", name="Excel 导入").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导入模板").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.set_input_files("input[type=file]", str(_register(tmp_path, "12345")))
    page.get_by_role("button", name="上传并导入").click()
    errors = page.locator("#import-errors")
    errors.wait_for()
    text = errors.inner_text()
    assert "手机号" in text and "ZB99" in text  # both bad rows are reported at once
    assert Person.objects.filter(staff_no__startswith="R").count() == 0  # nothing written

    # Fix the file: a valid phone, and the unknown organization code corrected.
    fixed = _register(tmp_path, "13900000002")
    from openpyxl import load_workbook

    book = load_workbook(fixed)
    book["人员"]["D4"] = "ZB13"
    book.save(fixed)
    page.goto("/orgs/import/")
    page.set_input_files("input[type=file]", str(fixed))
    page.get_by_role("button", name="上传并导入").click()
    page.get_by_text("导入完成").wait_for()
    assert Person.objects.filter(staff_no__startswith="R", organization__code="ZB13").count() == 3
