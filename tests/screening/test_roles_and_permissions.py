import pytest
from django.contrib.auth.models import Group
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, get_perms, remove_perm

from screening.models import CaseGroupObjectPermission, CaseUserObjectPermission
from screening.roles import Role
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_after_migrate():
    names = set(Group.objects.values_list("name", flat=True))
    assert {role.value for role in Role} <= names
    assert {role.value for role in Role} == {
        "frontline_officer",
        "social_worker",
        "supervisor",
        "hotline_staff",
        "agency_admin",
        "provider_staff",
    }


def test_a_case_grant_is_stored_in_the_direct_foreign_key_table():
    case = CaseFactory()
    worker = UserFactory(agency=case.agency)
    assert not worker.has_perm("screening.view_case", case)

    assign_perm("screening.view_case", worker, case)

    assert worker.has_perm("screening.view_case", case)
    assert not worker.has_perm("screening.change_case", case)
    assert CaseUserObjectPermission.objects.filter(user=worker, content_object=case).count() == 1
    assert not UserObjectPermission.objects.exists()  # nothing in guardian's generic table


def test_a_grant_on_one_case_does_not_open_another():
    case, other_case = CaseFactory(), CaseFactory()
    worker = UserFactory(agency=case.agency)
    assign_perm("screening.change_case", worker, case)
    assert worker.has_perm("screening.change_case", case)
    assert not worker.has_perm("screening.change_case", other_case)


def test_group_grants_reach_members_and_removal_takes_effect():
    case = CaseFactory()
    member = UserFactory(agency=case.agency)
    team = Group.objects.create(name="case-team-test")
    member.groups.add(team)
    assign_perm("screening.view_case", team, case)
    assert CaseGroupObjectPermission.objects.filter(group=team, content_object=case).exists()
    assert "view_case" in get_perms(member, case)

    remove_perm("screening.view_case", team, case)
    member = type(member).objects.get(pk=member.pk)  # fresh object: no permission cache
    assert not member.has_perm("screening.view_case", case)


def test_deleting_a_case_deletes_its_grants():
    case = CaseFactory()
    worker = UserFactory(agency=case.agency)
    team = Group.objects.create(name="case-team-cascade")
    assign_perm("screening.view_case", worker, case)
    assign_perm("screening.change_case", worker, case)
    assign_perm("screening.view_case", team, case)
    survivor = CaseFactory(agency=case.agency)
    assign_perm("screening.view_case", worker, survivor)

    case.delete()

    assert list(CaseUserObjectPermission.objects.values_list("content_object", flat=True)) == [
        survivor.pk
    ]
    assert not CaseGroupObjectPermission.objects.exists()
