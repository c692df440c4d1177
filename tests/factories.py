"""Test data factories (factory_boy)."""

from __future__ import annotations

import factory

from kaoping.accounts.models import Role, RoleGrant, User
from kaoping.organizations import services as org_services
from kaoping.organizations.models import Organization, OrgType, Person, PoliticalStatus


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    name = factory.Sequence(lambda n: f"第{n}党支部")
    org_type = OrgType.BRANCH
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return org_services.create_organization(actor=None, audit=False, **kwargs)


def make_tree() -> dict[str, Organization]:
    """机关党委 → two 党总支 → two 党支部 each."""
    root = OrganizationFactory(code="JG", name="机关党委", org_type=OrgType.AGENCY_COMMITTEE)
    a = OrganizationFactory(
        code="ZZ1", name="第一党总支", org_type=OrgType.GENERAL_BRANCH, parent=root
    )
    b = OrganizationFactory(
        code="ZZ2", name="第二党总支", org_type=OrgType.GENERAL_BRANCH, parent=root
    )
    return {
        "root": root,
        "a": a,
        "b": b,
        "a1": OrganizationFactory(code="ZB11", name="办公室党支部", parent=a),
        "a2": OrganizationFactory(code="ZB12", name="财务处党支部", parent=a),
        "b1": OrganizationFactory(code="ZB21", name="法规处党支部", parent=b),
        "b2": OrganizationFactory(code="ZB22", name="信息中心党支部", parent=b),
    }


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"张{'一二三四五六七八九十'[n % 10]}{n}")
    staff_no = factory.Sequence(lambda n: f"S{n:05d}")
    political_status = PoliticalStatus.FULL_MEMBER
    gender = "M"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return org_services.create_person(actor=None, audit=False, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "Test-pass-2024!")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def grant(user: User, role: Role, org: Organization | None = None) -> RoleGrant:
    g = RoleGrant.objects.create(user=user, role=role, organization=org)
    if hasattr(user, "_kaoping_access"):
        del user._kaoping_access
    return g


PASSWORD = "Test-pass-2024!"
