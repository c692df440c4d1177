"""Party organizations (党组织), people (党员, 群众) and the posts they hold (要素体系)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class OrgType(models.TextChoices):
    AGENCY_COMMITTEE = "agency_committee", "机关党委"
    COMMITTEE = "committee", "党委"
    GENERAL_BRANCH = "general_branch", "党总支"
    BRANCH = "branch", "党支部"
    TEMPORARY_BRANCH = "temporary_branch", "临时党支部"


BRANCH_TYPES = (OrgType.BRANCH, OrgType.TEMPORARY_BRANCH)


class OrgStatus(models.TextChoices):
    ACTIVE = "active", "正常"
    DISSOLVED = "dissolved", "已撤销"


def path_segment(pk: int) -> str:
    """One segment of a materialized path: zero-padded so that paths sort in tree order."""
    return f"{pk:08d}"


class Organization(models.Model):
    code = models.CharField("组织编码", max_length=32, unique=True)
    name = models.CharField("组织名称", max_length=100)
    org_type = models.CharField("组织类型", max_length=20, choices=OrgType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialized path of zero-padded primary keys ("/00000001/00000004/"): subtree queries
    # are one indexed prefix match, and ordering by path lists the tree depth first.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    business_department = models.CharField("服务的业务部门", max_length=100, blank=True)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=OrgStatus.choices, default=OrgStatus.ACTIVE
    )
    dissolved_on = models.DateField("撤销日期", null=True, blank=True)
    sort_order = models.IntegerField("排序", default=0)
    note = models.CharField("备注", max_length=200, blank=True)
    pinyin_initials = models.CharField(max_length=100, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "党组织"
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active", dissolved_on__isnull=True)
                | Q(status="dissolved", dissolved_on__isnull=False),
                name="org_dissolved_has_date",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == OrgStatus.ACTIVE

    @property
    def is_branch(self) -> bool:
        return self.org_type in BRANCH_TYPES


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class PoliticalStatus(models.TextChoices):
    FULL_MEMBER = "full", "正式党员"
    PROBATIONARY = "probationary", "预备党员"
    MASSES = "masses", "群众"


PARTY_STATUSES = (PoliticalStatus.FULL_MEMBER, PoliticalStatus.PROBATIONARY)


class CadreLevel(models.TextChoices):
    NONE = "", "—"
    BUREAU = "bureau", "厅局级"
    DIVISION = "division", "处级"
    SECTION = "section", "科级"


class Person(models.Model):
    name = models.CharField("姓名", max_length=50)
    staff_no = models.CharField("工号", max_length=32, unique=True)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name="所在党组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="people",
    )
    political_status = models.CharField("政治面貌", max_length=16, choices=PoliticalStatus.choices)
    position = models.CharField("职务", max_length=100, blank=True)
    is_leading_cadre = models.BooleanField("领导干部", default=False)
    cadre_level = models.CharField(
        "干部级别", max_length=12, choices=CadreLevel.choices, blank=True, default=""
    )
    business_department = models.CharField("业务部门", max_length=100, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    is_active = models.BooleanField("在册", default=True)
    pinyin_initials = models.CharField(max_length=50, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "人员"
        ordering = ["staff_no"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_leading_cadre=True) | Q(cadre_level=""),
                name="person_cadre_level_only_for_cadres",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.staff_no}）"

    @property
    def is_party_member(self) -> bool:
        return self.political_status in PARTY_STATUSES


class PostTitle(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    ORGANIZATION = "organization", "组织委员"
    PROPAGANDA = "propaganda", "宣传委员"
    DISCIPLINE = "discipline", "纪检委员"
    YOUTH = "youth", "青年委员"
    WOMEN = "women", "妇女委员"
    MEMBER = "member", "委员"


COMMITTEE_TITLES = tuple(t for t in PostTitle if t != PostTitle.SECRETARY)


class Post(models.Model):
    organization = models.ForeignKey(
        Organization, verbose_name="党组织", on_delete=models.PROTECT, related_name="posts"
    )
    person = models.ForeignKey(
        Person, verbose_name="任职人员", on_delete=models.PROTECT, related_name="posts"
    )
    title = models.CharField("职务", max_length=20, choices=PostTitle.choices)
    started_on = models.DateField("任职日期", null=True, blank=True)
    ended_on = models.DateField("离任日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "党内职务"
        ordering = ["organization_id", "title", "started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "title"],
                condition=Q(ended_on__isnull=True, title="secretary"),
                name="one_current_secretary_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "person", "title"],
                condition=Q(ended_on__isnull=True),
                name="one_current_post_per_person_title",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_title_display()} {self.person.name}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None
