"""Demo data: a fictional provincial agency (某省某厅) with its party organizations and people.

``build_demo()`` fills an empty database, deterministically (one seeded ``random.Random``, fixed
dates, fixed creation order), in one transaction. It runs ``STEPS`` in order. A later capability
extends the demo with a step: a function decorated with ``@register_step("标签")``, either here or
in a ``demo.py`` module of its own app (found like admin modules, in ``INSTALLED_APPS`` order).
A step reads what earlier steps left in the ``DemoContext`` (organizations by code, people,
department heads, accounts), draws randomness only from ``ctx.rng``, uses fixed dates
(``REFERENCE_DATE``), and adds its own counts to ``ctx.summary.counts``.

The data contains a few deliberate, realistic problems so that the register's warnings show:
档案馆党支部 has only 2 正式党员, 信访处党支部 has 7 or more 正式党员 and no 支部委员, 规划处党支部
has had no 书记 since its secretary moved on, and 体制改革办公室党支部 was dissolved (撤销) in the
2023 reorganization, its members now in 改革处党支部 and its posts ended.

Demo accounts (one per role, one shared password) exist only in data built here: a production
install never runs ``kaoping demo``.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from kaoping.accounts.models import Role, RoleGrant, User
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.organizations import services as org_services
from kaoping.organizations.models import (
    CadreLevel,
    Gender,
    Organization,
    OrgStatus,
    OrgType,
    Person,
    PoliticalStatus,
    Post,
    PostTitle,
)
from kaoping.organizations.pinyin import initials

SEED = 2024
DEMO_PASSWORD = "Kaoping-demo-2024"
AGENCY = "某省某厅"
# Every date in the demo is relative to this day, never to today: the data is the same every run.
REFERENCE_DATE = dt.date(2024, 6, 30)
ACTOR_NAME = "kaoping demo"


class DemoError(Exception):
    """The demo cannot be built here (the database already holds data)."""


# --------------------------------------------------------------------------------------------
# Shapes of the agency
# --------------------------------------------------------------------------------------------

# Kinds of department: a 行政处室, a 事业单位, a branch of retired cadres, a 专项工作组.
ADMIN, INSTITUTION, RETIRED, TASKFORCE = "admin", "institution", "retired", "taskforce"


@dataclass(frozen=True)
class Dept:
    code: str  # the code of its 党支部
    name: str  # the business department (业务部门) the branch serves
    size: int  # people in the register (members and masses)
    kind: str = ADMIN
    branch: str = ""  # branch name when it is not "<name>党支部"
    head: str = ""  # title of the head when not 处长/主任
    staff_titles: tuple[str, ...] = ()  # professional titles in a 事业单位

    @property
    def branch_name(self) -> str:
        return self.branch or f"{self.name}党支部"


ENG = ("高级工程师", "工程师", "工程师", "助理工程师")
RES = ("研究员", "副研究员", "助理研究员", "助理研究员")
ARCHIVE = ("副研究馆员", "馆员", "助理馆员")
SERVICE = ("经济师", "助理经济师", "管理岗", "管理岗", "工勤技能岗")
PUBLICITY = ("高级编辑", "编辑", "助理编辑", "管理岗")

# (code, name of the 党总支, its departments). Sizes add up to about 800 people.
GENERAL_BRANCHES: list[tuple[str, str, list[Dept]]] = [
    (
        "ZZ01",
        "办公室党总支",
        [
            Dept("ZB0101", "办公室", 30),
            Dept("ZB0102", "秘书处", 16),
            Dept("ZB0103", "督查室", 12),
            Dept("ZB0104", "信访处", 13),
            Dept("ZB0105", "机要保密处", 11),
            Dept("ZB0106", "机关事务管理处", 18),
        ],
    ),
    (
        "ZZ02",
        "政策法规党总支",
        [
            Dept("ZB0201", "政策研究室", 16),
            Dept("ZB0202", "法规处", 15),
            Dept("ZB0203", "规划处", 14),
            Dept("ZB0204", "改革处", 13),
            Dept("ZB0205", "发展研究中心", 24, INSTITUTION, staff_titles=RES),
        ],
    ),
    (
        "ZZ03",
        "财务审计党总支",
        [
            Dept("ZB0301", "财务处", 18),
            Dept("ZB0302", "审计处", 14),
            Dept("ZB0303", "资产管理处", 12),
            Dept("ZB0304", "统计处", 13),
            Dept("ZB0305", "价格处", 12),
        ],
    ),
    (
        "ZZ04",
        "业务管理党总支",
        [
            Dept("ZB0401", "业务一处", 21),
            Dept("ZB0402", "业务二处", 21),
            Dept("ZB0403", "业务三处", 18),
            Dept("ZB0404", "业务四处", 17),
            Dept("ZB0405", "行政审批处", 24),
            Dept("ZB0406", "监督检查处", 19),
            Dept("ZB0407", "科技处", 13),
        ],
    ),
    (
        "ZZ05",
        "综合管理党总支",
        [
            Dept("ZB0501", "人事处", 17),
            Dept("ZB0502", "机关党委办公室", 11),
            Dept("ZB0503", "教育培训处", 12),
            Dept("ZB0504", "新闻宣传处", 12),
            Dept("ZB0505", "对外合作处", 11),
        ],
    ),
    (
        "ZZ06",
        "直属单位党总支",
        [
            Dept("ZB0601", "信息中心", 38, INSTITUTION, staff_titles=ENG),
            Dept("ZB0602", "档案馆", 5, INSTITUTION, head="馆长", staff_titles=ARCHIVE),
            Dept("ZB0603", "机关服务中心", 48, INSTITUTION, staff_titles=SERVICE),
            Dept("ZB0604", "科学研究所", 40, INSTITUTION, head="所长", staff_titles=RES),
            Dept("ZB0605", "检验检测中心", 38, INSTITUTION, staff_titles=ENG),
            Dept("ZB0606", "宣传教育中心", 20, INSTITUTION, staff_titles=PUBLICITY),
        ],
    ),
    (
        "ZZ07",
        "离退休干部党总支",
        [
            Dept("ZB0701", "离退休干部处", 11),
            Dept("ZB0702", "离退休干部处", 38, RETIRED, branch="离退休干部第一党支部"),
            Dept("ZB0703", "离退休干部处", 36, RETIRED, branch="离退休干部第二党支部"),
            Dept("ZB0704", "离退休干部处", 31, RETIRED, branch="离退休干部第三党支部"),
            Dept("ZB0705", "离退休干部处", 29, RETIRED, branch="离退休干部第四党支部"),
        ],
    ),
]
# A 临时党支部 directly under the 机关党委, for a special task force of seconded staff.
TASKFORCE_DEPT = Dept(
    "LS01",
    "乡村振兴专项工作组",
    7,
    TASKFORCE,
    branch="乡村振兴专项工作组临时党支部",
)
# The branch dissolved in the 2023 reorganization; its members went to 改革处.
DISSOLVED = Dept("ZB0206", "体制改革办公室", 0, branch="体制改革办公室党支部")
DISSOLVED_INTO = "ZB0204"
DISSOLVED_MEMBERS = 6
DISSOLVED_ON = dt.date(2023, 12, 31)
TASKFORCE_FOUNDED = dt.date(2024, 3, 1)

# The deliberate problems (see the module docstring).
TOO_FEW_CODE = "ZB0602"  # 档案馆: 2 full members
NO_COMMITTEE_CODE = "ZB0104"  # 信访处: ≥ 7 full members, no committee
NO_SECRETARY_CODE = "ZB0203"  # 规划处: secretary moved on, post vacant

# 厅领导 (厅局级): title, the department whose branch they belong to.
AGENCY_LEADERS = [
    ("厅长", "办公室"),
    ("副厅长", "政策研究室"),
    ("副厅长", "财务处"),
    ("副厅长", "人事处"),  # also 机关党委书记
    ("总经济师", "业务一处"),
]

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

# Common surnames, roughly by frequency (weights are relative).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
SURNAME_WEIGHTS = [max(1.0, 60.0 / (i + 6)) for i in range(len(SURNAMES))]
MALE_FIRST = "建志国文明海永晓俊宏立振学家子浩宇嘉博鸿思天泽德春金新世正兴良景庆"
MALE_SECOND = "军华平强明东林峰涛斌辉刚勇杰磊鹏飞波超宁新成龙凯亮锋钢彬阳宇航远然哲睿"
FEMALE_FIRST = "秀丽晓雅婷静雪美玉慧佳欣文思丹春海红小梦雨雯诗悦月"
FEMALE_SECOND = "英华芳娟玲霞燕萍丽敏静婷洁琳颖倩雯蕾瑶妍萱彤怡楠琪"
MALE_SINGLE = "伟磊军勇斌超波辉峰亮鑫浩凯健刚杰"
FEMALE_SINGLE = "芳敏静丽艳娟霞燕玲洁颖婷倩莉"
# Names of well-known people the generator must not produce (best effort).
_FAMOUS_TEXT = """
    习近平 李克强 李强 胡锦涛 温家宝 江泽民 朱镕基 李鹏 毛泽东 周恩来 刘少奇 邓小平 朱德 王毅 韩正
    王岐山 汪洋 张德江 俞正声 刘云山 张高丽 吴邦国 贾庆林 李长春 贺国强 周永康 李岚清 曾庆红
    吴官正 罗干 杨洁篪 王勇 孙春兰 胡春华 刘鹤 陈希 郭声琨 黄坤明 李鸿忠 杨晓渡 陈敏尔 陈全国
    许其亮 张又侠 何立峰 王晨 刘国中 吴政隆 谌贻琴 蔡奇 丁薛祥 李希 赵乐际 王沪宁 李干杰 石泰峰
    刘德华 张学友 郭富城 黎明 周杰伦 林俊杰 张国荣 王菲 那英 刘欢 韩红 李健 张杰 黄磊 刘涛 王刚
    陈坤 黄渤 孙俪 李娜 姚明 刘翔 郭晶晶 李宁 邓亚萍 孙杨 杨洋 李冰冰 范冰冰 赵薇 周迅 章子怡
    成龙 李连杰 甄子丹 马云 马化腾 李彦宏 雷军 任正非 董明珠 王健林 刘强东 张勇 王石 柳传志
    鲁迅 巴金 老舍 钱学森 袁隆平 屠呦呦 钟南山 杨利伟 王亚平 刘洋 聂海胜 郎平 朱婷 张艺谋
    冯小刚 陈凯歌 赵本山 宋丹丹 倪萍 白岩松 崔永元 董卿 朱军 李咏 撒贝宁 王小丫 张伟 王伟
"""
FAMOUS = frozenset(_FAMOUS_TEXT.split())

_PHONE_PREFIX_TEXT = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 176 177 180 181 182 183 185 186 187 188 189 191 198 199"
)
PHONE_PREFIXES = _PHONE_PREFIX_TEXT.split()


# --------------------------------------------------------------------------------------------
# Context, summary and steps
# --------------------------------------------------------------------------------------------


@dataclass
class DemoLogin:
    username: str
    roles: str  # role labels in Chinese
    scope: str  # organizations the grants name, or "全局"
    full_name: str
    password: str  # the demo password, or a note when it was changed


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)  # label (Chinese) -> number
    logins: list[DemoLogin] = field(default_factory=list)
    password: str = DEMO_PASSWORD
    seconds: float = 0.0


@dataclass
class DemoContext:
    """What the steps build and share. Later steps read it and add to ``summary.counts``."""

    rng: random.Random
    summary: DemoSummary
    orgs: dict[str, Organization] = field(default_factory=dict)  # by code
    people: list[Person] = field(default_factory=list)  # in creation (primary key) order
    by_org: dict[str, list[Person]] = field(default_factory=dict)  # org code -> people
    heads: dict[str, Person] = field(default_factory=dict)  # org code -> head of department
    deputies: dict[str, list[Person]] = field(default_factory=dict)
    leaders: list[Person] = field(default_factory=list)  # 厅领导
    posts: list[Post] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # for later steps


Step = Callable[[DemoContext], None]
STEPS: list[tuple[str, Step]] = []


def register_step(label: str, *, before: str | None = None) -> Callable[[Step], Step]:
    """Add a step to the demo (at the end, or before the step labelled ``before``)."""

    def decorate(func: Step) -> Step:
        if any(f is func for _, f in STEPS):
            return func
        if before is None:
            STEPS.append((label, func))
        else:
            index = next(i for i, (lab, _) in enumerate(STEPS) if lab == before)
            STEPS.insert(index, (label, func))
        return func

    return decorate


def steps() -> list[tuple[str, Step]]:
    """Every registered step, after importing the ``demo`` module of each installed app."""
    autodiscover_modules("demo")
    return STEPS


# --------------------------------------------------------------------------------------------
# Step 1: organizations
# --------------------------------------------------------------------------------------------


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


@register_step("党组织")
def build_organizations(ctx: DemoContext) -> None:
    """The tree, through the register's own service (it checks types and computes paths)."""
    rng = ctx.rng

    def create(code: str, name: str, org_type: str, parent: Organization | None, **kw: Any) -> None:
        ctx.orgs[code] = org_services.create_organization(
            actor=None,
            audit=False,
            code=code,
            name=name,
            org_type=org_type,
            parent=parent,
            sort_order=len(ctx.orgs),
            **kw,
        )

    create(
        "JG",
        "机关党委",
        OrgType.AGENCY_COMMITTEE,
        None,
        business_department=AGENCY,
        founded_on=dt.date(1984, 7, 1),
        note="演示数据：虚构的省直机关",
    )
    root = ctx.orgs["JG"]
    # Breadth first: the materialized paths then sort in tree order (keys of equal length).
    for gcode, gname, _ in GENERAL_BRANCHES:
        create(
            gcode,
            gname,
            OrgType.GENERAL_BRANCH,
            root,
            founded_on=_random_date(rng, dt.date(1995, 1, 1), dt.date(2010, 12, 31)),
        )
    create(
        TASKFORCE_DEPT.code,
        TASKFORCE_DEPT.branch_name,
        OrgType.TEMPORARY_BRANCH,
        root,
        business_department=TASKFORCE_DEPT.name,
        founded_on=TASKFORCE_FOUNDED,
        note="专项工作组成员为借调人员，工作结束后撤销",
    )
    for gcode, _, depts in GENERAL_BRANCHES:
        for dept in depts:
            create(
                dept.code,
                dept.branch_name,
                OrgType.BRANCH,
                ctx.orgs[gcode],
                business_department=dept.name,
                founded_on=_random_date(rng, dt.date(1998, 1, 1), dt.date(2016, 12, 31)),
            )
        if gcode == "ZZ02":
            create(
                DISSOLVED.code,
                DISSOLVED.branch_name,
                OrgType.BRANCH,
                ctx.orgs[gcode],
                business_department=DISSOLVED.name,
                founded_on=dt.date(2018, 10, 15),
                note="2023年机构改革，体制改革办公室并入改革处，党员组织关系转入改革处党支部",
            )
    ctx.summary.counts["机关党委"] = 1
    ctx.summary.counts["党总支"] = len(GENERAL_BRANCHES)
    ctx.summary.counts["党支部（含临时党支部、已撤销）"] = len(ctx.orgs) - 1 - len(GENERAL_BRANCHES)


# --------------------------------------------------------------------------------------------
# Step 2: people
# --------------------------------------------------------------------------------------------


class _People:
    """Generates unique plausible names, staff numbers and phone numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.phones: set[str] = set()
        self.seq = 0

    def name(self, gender: str) -> str:
        rng = self.rng
        while True:
            surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
            male = gender == Gender.MALE
            if rng.random() < 0.18:
                given = rng.choice(MALE_SINGLE if male else FEMALE_SINGLE)
            else:
                first, second = (MALE_FIRST, MALE_SECOND) if male else (FEMALE_FIRST, FEMALE_SECOND)
                given = rng.choice(first) + rng.choice(second)
                if given[0] == given[1]:
                    continue
            full = surname + given
            if full not in self.names and full not in FAMOUS:
                self.names.add(full)
                return full

    def phone(self) -> str:
        while True:
            number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def make(
        self,
        ctx: DemoContext,
        org_code: str,
        *,
        department: str,
        position: str,
        status: str = PoliticalStatus.FULL_MEMBER,
        level: str = CadreLevel.NONE,
        male_share: float = 0.58,
    ) -> Person:
        self.seq += 1
        gender = Gender.MALE if self.rng.random() < male_share else Gender.FEMALE
        name = self.name(gender)
        person = Person(
            name=name,
            staff_no=f"{'LT' if position == '退休干部' else 'GZ'}{self.seq:04d}",
            gender=gender,
            organization=ctx.orgs[org_code],
            political_status=status,
            position=position,
            is_leading_cadre=bool(level),
            cadre_level=level,
            business_department=department,
            phone="" if self.rng.random() < 0.03 else self.phone(),
            pinyin_initials=initials(name),
        )
        ctx.people.append(person)
        ctx.by_org.setdefault(org_code, []).append(person)
        return person


def _statuses(rng: random.Random, n: int, kind: str) -> list[str]:
    """Political statuses for the ``n`` rank-and-file staff of a department."""
    if kind in (RETIRED, TASKFORCE):
        return [PoliticalStatus.FULL_MEMBER] * n
    masses, probationary = (0.22, 0.08) if kind == INSTITUTION else (0.12, 0.07)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < masses:
            out.append(PoliticalStatus.MASSES)
        elif r < masses + probationary:
            out.append(PoliticalStatus.PROBATIONARY)
        else:
            out.append(PoliticalStatus.FULL_MEMBER)
    return out


ADMIN_RANKS = (
    ["一级调研员", "二级调研员", "三级调研员", "四级调研员"],
    ["一级主任科员", "二级主任科员", "三级主任科员", "四级主任科员"],
    ["一级科员", "二级科员"],
)


def _department_people(ctx: DemoContext, gen: _People, dept: Dept) -> None:
    rng = ctx.rng
    code = dept.code
    if dept.kind == RETIRED:
        for status in _statuses(rng, dept.size, RETIRED):
            gen.make(
                ctx, code, department=dept.name, position="退休干部", status=status, male_share=0.6
            )
        return
    if dept.kind == TASKFORCE:
        ctx.heads[code] = gen.make(
            ctx,
            code,
            department=dept.name,
            position="专项工作组组长（原规划处副处长）",
            level=CadreLevel.DIVISION,
        )
        for _ in range(dept.size - 1):
            gen.make(ctx, code, department=dept.name, position="专项工作组成员（借调）")
        return

    is_office = dept.name.endswith("室")
    if dept.kind == INSTITUTION:
        head_title = dept.head or "主任"
        deputy_title = f"副{head_title}"
    else:
        head_title, deputy_title = ("主任", "副主任") if is_office else ("处长", "副处长")
    n_deputies = 0 if dept.size < 8 else 1 if dept.size < 15 else 2
    ctx.heads[code] = gen.make(
        ctx, code, department=dept.name, position=head_title, level=CadreLevel.DIVISION
    )
    ctx.deputies[code] = [
        gen.make(ctx, code, department=dept.name, position=deputy_title, level=CadreLevel.DIVISION)
        for _ in range(n_deputies)
    ]
    rest = dept.size - 1 - n_deputies
    if code == TOO_FEW_CODE:
        # 档案馆: the 馆长 and one more full member, one probationary member, two masses.
        statuses = [
            PoliticalStatus.FULL_MEMBER,
            PoliticalStatus.PROBATIONARY,
            PoliticalStatus.MASSES,
            PoliticalStatus.MASSES,
        ][:rest]
    else:
        statuses = _statuses(rng, rest, dept.kind)
    positions: list[tuple[str, str]] = []
    if dept.kind == INSTITUTION:
        n_sections = max(0, dept.size // 10)
        positions += [("科长", CadreLevel.SECTION)] * n_sections
        positions += [("副科长", CadreLevel.SECTION)] * (n_sections // 2)
        while len(positions) < rest:
            positions.append((rng.choice(dept.staff_titles), CadreLevel.NONE))
    else:
        senior, middle, junior = ADMIN_RANKS
        for i in range(rest):
            share = i / max(rest, 1)
            pool = senior if share < 0.2 else middle if share < 0.8 else junior
            positions.append((rng.choice(pool), CadreLevel.NONE))
    for (position, level), status in zip(positions[:rest], statuses, strict=True):
        if level:  # leading cadres are party members
            status = PoliticalStatus.FULL_MEMBER
        gen.make(ctx, code, department=dept.name, position=position, status=status, level=level)


@register_step("人员")
def build_people(ctx: DemoContext) -> None:
    """About 800 people, created in one bulk insert (services would take too long)."""
    gen = _People(ctx.rng)
    # 厅领导 first: they head the list of staff numbers.
    for title, dept_name in AGENCY_LEADERS:
        code = next(d.code for _, _, ds in GENERAL_BRANCHES for d in ds if d.name == dept_name)
        ctx.leaders.append(
            gen.make(ctx, code, department="厅领导", position=title, level=CadreLevel.BUREAU)
        )
    for _, _, depts in GENERAL_BRANCHES:
        for dept in depts:
            _department_people(ctx, gen, dept)
            if dept.code == DISSOLVED_INTO:
                # Formerly 体制改革办公室, now in 改革处 (their branch was dissolved).
                for position in [
                    "副处长",
                    "一级调研员",
                    "二级主任科员",
                    "三级主任科员",
                    "一级科员",
                    "一级科员",
                ][:DISSOLVED_MEMBERS]:
                    level = CadreLevel.DIVISION if position == "副处长" else CadreLevel.NONE
                    person = gen.make(
                        ctx, dept.code, department=dept.name, position=position, level=level
                    )
                    ctx.extra.setdefault("from_dissolved", []).append(person)
    _department_people(ctx, gen, TASKFORCE_DEPT)
    for person in ctx.people:
        org_services.validate_phone(person.phone)
        person.full_clean(
            exclude=["organization"], validate_unique=False, validate_constraints=False
        )
    Person.objects.bulk_create(ctx.people)
    if any(p.pk is None for p in ctx.people):  # backends that do not return keys
        pks = dict(Person.objects.values_list("staff_no", "pk"))
        for p in ctx.people:
            p.pk = pks[p.staff_no]
    c = ctx.summary.counts
    c["人员"] = len(ctx.people)
    for status in PoliticalStatus:
        c[f"其中：{status.label}"] = sum(p.political_status == status for p in ctx.people)
    c["领导干部（厅局级/处级/科级）"] = sum(p.is_leading_cadre for p in ctx.people)


# --------------------------------------------------------------------------------------------
# Step 3: posts
# --------------------------------------------------------------------------------------------


def _post(
    ctx: DemoContext,
    org: Organization,
    person: Person,
    title: str,
    started_on: dt.date,
    ended_on: dt.date | None = None,
) -> None:
    assert person.is_party_member, person
    ctx.posts.append(
        Post(organization=org, person=person, title=title, started_on=started_on, ended_on=ended_on)
    )


def _full(people: list[Person]) -> list[Person]:
    return [p for p in people if p.political_status == PoliticalStatus.FULL_MEMBER]


def _branch_posts(ctx: DemoContext, code: str) -> None:
    rng = ctx.rng
    org = ctx.orgs[code]
    members = _full(ctx.by_org[code])
    elected = _random_date(rng, dt.date(2021, 9, 1), dt.date(2023, 12, 31))  # 换届
    head = ctx.heads.get(code)
    deputies = [p for p in ctx.deputies.get(code, []) if p in members]
    if head is not None and (rng.random() < 0.75 or not deputies):
        secretary = head
    elif deputies:
        secretary = deputies[0]
    else:  # retired cadres elect one of their own
        secretary = rng.choice(members)
    if code == NO_SECRETARY_CODE:
        # The secretary, a 副处长, was seconded to lead the task force; nobody elected since.
        former = ctx.heads[TASKFORCE_DEPT.code]
        _post(ctx, org, former, PostTitle.SECRETARY, elected, TASKFORCE_FOUNDED)
        secretary = former
    others = [p for p in members if p is not secretary]
    if code != NO_SECRETARY_CODE:
        _post(ctx, org, secretary, PostTitle.SECRETARY, elected)
        if rng.random() < 0.2 and others:
            # The previous secretary, before the last election.
            prev = rng.choice(others)
            _post(
                ctx, org, prev, PostTitle.SECRETARY, elected.replace(year=elected.year - 3), elected
            )
    if code == NO_COMMITTEE_CODE or len(members) < 7:
        return
    titles = [PostTitle.ORGANIZATION, PostTitle.PROPAGANDA, PostTitle.DISCIPLINE]
    if len(members) >= 15:
        titles.insert(0, PostTitle.DEPUTY_SECRETARY)
        if rng.random() < 0.5:
            titles.append(PostTitle.YOUTH)
    for title, person in zip(titles, rng.sample(others, len(titles)), strict=True):
        _post(ctx, org, person, title, elected)


def _committee_posts(ctx: DemoContext, code: str, people: list[Person], elected: dt.date) -> None:
    org = ctx.orgs[code]
    _post(ctx, org, people[0], PostTitle.SECRETARY, elected)
    _post(ctx, org, people[1], PostTitle.DEPUTY_SECRETARY, elected)
    for person in people[2:]:
        _post(ctx, org, person, PostTitle.MEMBER, elected)


@register_step("党内职务")
def build_posts(ctx: DemoContext) -> None:
    rng = ctx.rng
    # 机关党委: 书记 is the 副厅长 in 人事处, the 专职副书记 heads 机关党委办公室.
    committee = [ctx.leaders[3], ctx.heads["ZB0502"]] + [
        ctx.heads[c] for c in ("ZB0101", "ZB0501", "ZB0301", "ZB0401", "ZB0601")
    ]
    _committee_posts(ctx, "JG", committee, dt.date(2022, 6, 28))
    for gcode, _, depts in GENERAL_BRANCHES:
        elected = _random_date(rng, dt.date(2021, 9, 1), dt.date(2023, 6, 30))
        if gcode == "ZZ07":
            retired_secretaries = [rng.choice(_full(ctx.by_org[d.code])) for d in depts[1:4]]
            people = [ctx.heads[depts[0].code], *retired_secretaries]
        else:
            people = [ctx.heads[d.code] for d in depts[:5]]
        _committee_posts(ctx, gcode, people, elected)
        for dept in depts:
            _branch_posts(ctx, dept.code)
    _branch_posts(ctx, TASKFORCE_DEPT.code)
    # The dissolved branch's committee, ended on the day it was dissolved.
    org = ctx.orgs[DISSOLVED.code]
    former = ctx.extra["from_dissolved"]
    for person, title in zip(
        former, [PostTitle.SECRETARY, PostTitle.ORGANIZATION, PostTitle.PROPAGANDA], strict=False
    ):
        _post(ctx, org, person, title, dt.date(2021, 3, 20), DISSOLVED_ON)
    Post.objects.bulk_create(ctx.posts)
    ctx.summary.counts["党内职务（现任）"] = sum(p.ended_on is None for p in ctx.posts)


@register_step("撤销的党支部")
def dissolve_branch(ctx: DemoContext) -> None:
    """体制改革办公室党支部: its people are in 改革处 and its posts ended; now it is dissolved."""
    org = ctx.orgs[DISSOLVED.code]
    assert not org.people.filter(is_active=True).exists()
    org.status, org.dissolved_on = OrgStatus.DISSOLVED, DISSOLVED_ON
    org.save(update_fields=["status", "dissolved_on", "updated_at"])
    Post.objects.filter(organization=org, ended_on__isnull=True).update(ended_on=DISSOLVED_ON)
    ctx.summary.counts["已撤销的党支部"] = 1


# --------------------------------------------------------------------------------------------
# Step 4: demo accounts
# --------------------------------------------------------------------------------------------

# username, role, scope (organization code or None), how to find the linked person.
DEMO_ACCOUNTS: list[tuple[str, Role, str | None, str]] = [
    ("sysadmin", Role.SYSTEM_ADMIN, None, ""),
    ("secadmin", Role.SECURITY_ADMIN, None, ""),
    ("auditor", Role.AUDIT_ADMIN, None, ""),
    ("organizer", Role.ASSESSMENT_ADMIN, "JG", "staff:ZB0502"),
    ("organizer2", Role.ASSESSMENT_ADMIN, "ZZ06", "staff:ZB0601"),
    ("reviewer", Role.REVIEWER, "JG", "staff:ZB0501"),
    ("reviewer2", Role.REVIEWER, "JG", "staff:ZB0302"),
    ("reviewer3", Role.REVIEWER, "JG", "staff:ZB0601"),
    ("submitter", Role.SUBMITTER, "ZB0401", "organization_member:ZB0401"),
    ("leader", Role.LEADER, "ZZ04", "leader:4"),
    ("approver", Role.LEADER, "JG", "leader:3"),  # 机关党委书记: approves results
    ("member", Role.MEMBER, None, "staff:ZB0401"),
]
DEMO_USERNAMES = [a[0] for a in DEMO_ACCOUNTS]


def _account_person(ctx: DemoContext, how: str, taken: set[int]) -> Person | None:
    if not how:
        return None
    kind, arg = how.split(":")
    if kind == "leader":
        return ctx.leaders[int(arg)]
    if kind == "organization_member":  # the branch's 组织委员, who fills in its forms
        org = ctx.orgs[arg]
        return next(
            p.person
            for p in ctx.posts
            if p.organization is org and p.title == PostTitle.ORGANIZATION and p.ended_on is None
        )
    # An ordinary full member of the department, holding no post.
    post_holders = {p.person.pk for p in ctx.posts}
    return next(
        p
        for p in ctx.by_org[arg]
        if p.political_status == PoliticalStatus.FULL_MEMBER
        and not p.is_leading_cadre
        and p.pk not in post_holders
        and p.pk not in taken
    )


@register_step("演示账号")
def build_accounts(ctx: DemoContext) -> None:
    """One account per role with the shared demo password (hashed once: it is the same)."""
    encoded = make_password(DEMO_PASSWORD)
    taken: set[int] = set()
    for username, role, scope, how in DEMO_ACCOUNTS:
        person = _account_person(ctx, how, taken)
        if person is not None:
            taken.add(person.pk)
        full_name = person.name if person else f"{role.label}（演示）"
        user = User.objects.create(
            username=username,
            full_name=full_name,
            person=person,
            password=encoded,
            must_change_password=False,
        )
        RoleGrant.objects.create(
            user=user, role=role, organization=ctx.orgs[scope] if scope else None
        )
        ctx.users[username] = user
    ctx.summary.counts["演示账号"] = len(DEMO_ACCOUNTS)


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def existing_data() -> str | None:
    """Why the database cannot take the demo, or None when it is empty enough."""
    n_orgs = Organization.objects.count()
    if n_orgs:
        return f"数据库中已有 {n_orgs} 个党组织"
    n_people = Person.objects.count()
    if n_people:
        return f"数据库中已有 {n_people} 名人员"
    present = set(
        User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
    )
    taken = [u for u in DEMO_USERNAMES if u in present]
    if taken:
        return f"数据库中已有账号 {', '.join(taken)}"
    return None


def build_demo(*, progress: Callable[[int, int, str], None] | None = None) -> DemoSummary:
    """Build the demo into an empty database, in one transaction; raise ``DemoError`` otherwise.

    ``progress(done, total, label)`` is called before each step and once at the end.
    """
    started = time.monotonic()
    summary = DemoSummary()
    ctx = DemoContext(rng=random.Random(SEED), summary=summary)
    with transaction.atomic():
        reason = existing_data()
        if reason:
            raise DemoError(reason)
        all_steps = steps()
        for i, (label, step) in enumerate(all_steps):
            if progress:
                progress(i, len(all_steps), label)
            step(ctx)
        log_action(
            Action.IMPORT,
            actor_name=ACTOR_NAME,
            object_type="demo",
            object_repr="演示数据",
            data={"source": "demo", "seed": SEED, "counts": dict(summary.counts)},
        )
    if progress:
        progress(len(all_steps), len(all_steps), "完成")
    summary.logins = demo_logins()
    summary.seconds = time.monotonic() - started
    return summary


def demo_logins() -> list[DemoLogin]:
    """The demo accounts present in the database, in the demo's order, with their grants.

    The password column shows the demo password only while the account still has it.
    """
    users = {
        u.username: u
        for u in User.objects.filter(username__in=DEMO_USERNAMES).prefetch_related(
            "grants__organization"
        )
    }
    checked: dict[str, bool] = {}  # encoded hash -> has the demo password (hash once per value)
    out = []
    for username in DEMO_USERNAMES:
        user = users.get(username)
        if user is None:
            continue
        if user.password not in checked:
            checked[user.password] = check_password(DEMO_PASSWORD, user.password)
        grants = sorted(user.grants.all(), key=lambda g: g.pk)
        roles = "、".join(dict.fromkeys(g.get_role_display() for g in grants)) or "（无角色）"
        scopes = [_scope_text(g) for g in grants]
        out.append(
            DemoLogin(
                username=username,
                roles=roles,
                scope="；".join(dict.fromkeys(scopes)),
                full_name=user.full_name,
                password=DEMO_PASSWORD if checked[user.password] else "（已修改）",
            )
        )
    return out


def _scope_text(grant: RoleGrant) -> str:
    if grant.organization is None:
        if grant.role == Role.MEMBER:
            return "本人所在党组织"
        return "全局"
    if grant.role in (Role.ASSESSMENT_ADMIN, Role.LEADER):
        return f"{grant.organization.name}及下级"
    return grant.organization.name
