"""Who can see a case and why (screening/access.py): the list names exactly the people the
visibility rule lets see the case, each with the grants that let them. A property test
over random worlds of agencies, roles, assignments, shares, break-glass grants (some expired),
group grants and deactivated accounts proves the list and `Case.objects.visible_to` agree.
All people are fictional."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from guardian.shortcuts import assign_perm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from config import errors
from screening import services
from screening.access import GrantKind, case_access_list
from screening.models import Agency, BreakGlassGrant, Case, User
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

ROLES = list(Role.values)


def _visible_to(user: User, case: Case) -> bool:
    fresh = User.objects.get(pk=user.pk)  # roles and activity as the database has them now
    return Case.objects.visible_to(fresh).filter(pk=case.pk).exists()


def _make_user(agency: Agency | None, roles: list[str]) -> User:
    user = UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)
    user.groups.set([Group.objects.get_or_create(name=role)[0] for role in roles])
    return user


person = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(["owner", "partner", "elsewhere", None]),
        "roles": st.lists(st.sampled_from(ROLES), max_size=2, unique=True),
        "assigned": st.booleans(),
        "unassigned_later": st.booleans(),
        # a grant made outside the services (view alone does it; change alone does not)
        "hand_grant": st.sampled_from([None, "view_case", "change_case"]),
        # minutes from now the person's break-glass grant ends (negative: it has ended)
        "break_glass": st.none() | st.sampled_from([-600, -5, 5, 240]),
        "deactivated_later": st.booleans(),
    }
)


class CaseAccessListProperty(TestCase):
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        people=st.lists(person, min_size=1, max_size=7),
        shared_with=st.sets(st.sampled_from(["partner", "elsewhere"])),
        group_grant=st.none() | st.sampled_from(ROLES),
        creator_deactivated=st.booleans(),
    )
    def test_the_list_is_exactly_the_people_the_visibility_rule_lets_see_the_case(
        self, people, shared_with, group_grant, creator_deactivated
    ):
        agencies = {name: AgencyFactory() for name in ("owner", "partner", "elsewhere")}
        viewer = _make_user(agencies["owner"], [Role.SUPERVISOR])
        creator = _make_user(agencies["owner"], [Role.FRONTLINE_OFFICER])
        case = services.case_create(created_by=creator)
        for name in sorted(shared_with):
            services.case_share(case=case, agency=agencies[name], reason="Joint work", by=viewer)
        if group_grant is not None:
            # Guardian group grants exist as a table but the visibility rule ignores them.
            assign_perm("view_case", Group.objects.get_or_create(name=group_grant)[0], case)

        users = [viewer, creator]
        now = timezone.now()
        for spec in people:
            user = _make_user(agencies.get(spec["agency"]), spec["roles"])
            users.append(user)
            if spec["assigned"]:
                try:
                    services.case_assign(case=case, worker=user, by=viewer)
                except errors.ValidationError:
                    pass  # not an active case worker of the owning agency
                else:
                    if spec["unassigned_later"]:
                        services.case_unassign(case=case, worker=user, by=viewer)
            if spec["hand_grant"]:
                assign_perm(spec["hand_grant"], user, case)
            if spec["break_glass"] is not None:
                ends = now + timedelta(minutes=spec["break_glass"])
                BreakGlassGrant.objects.create(
                    case=case,
                    user=user,
                    reason="Fictional emergency",
                    granted_at=ends - timedelta(hours=4),
                    expires_at=ends,
                )
            if spec["deactivated_later"]:
                User.objects.filter(pk=user.pk).update(is_active=False)
        if creator_deactivated:
            User.objects.filter(pk=creator.pk).update(is_active=False)

        access = case_access_list(user=viewer, case_reference_or_id=case.reference)
        listed = list(access.people)

        assert {user.pk for user in listed} == {
            user.pk for user in users if _visible_to(user, case)
        }
        # Each person is there for a reason the page can name, and the reasons are true.
        shared_agency_ids = {agencies[name].pk for name in shared_with}
        for holder in access.holders(listed):
            kinds = {grant.kind for grant in holder.grants}
            assert kinds, holder.user
            user = holder.user
            is_supervisor = user.groups.filter(name=Role.SUPERVISOR).exists()
            assert (GrantKind.SUPERVISOR in kinds) == (
                user.agency_id == case.agency_id and is_supervisor
            )
            assert (GrantKind.SHARE in kinds) == (user.agency_id in shared_agency_ids)
            running = BreakGlassGrant.objects.filter(
                case=case, user=user, expires_at__gt=timezone.now()
            ).exists()
            assert (GrantKind.BREAK_GLASS in kinds) == running
            assert (GrantKind.CREATOR in kinds) == (user.pk == creator.pk)


# --- the selector's rules, one by one --------------------------------------------------------


def _kinds(access, user) -> list[str]:
    holder = next(h for h in access.holders(access.people) if h.user.pk == user.pk)
    return [grant.kind for grant in holder.grants]


@pytest.mark.django_db
def test_each_person_is_listed_once_with_every_grant_that_lets_them(
    supervisor, officer, colleague, case, other_agency
):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    services.case_assign(case=case, worker=officer, by=supervisor)  # the creator, assigned too
    partner = UserFactory(agency=other_agency, role=Role.SOCIAL_WORKER)
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)

    access = case_access_list(user=supervisor, case_reference_or_id=case.reference)
    people = list(access.people)

    assert sorted(u.pk for u in people) == sorted(
        {supervisor.pk, officer.pk, colleague.pk, partner.pk}
    )
    assert _kinds(access, officer) == [GrantKind.CREATOR, GrantKind.ASSIGNMENT]
    assert _kinds(access, colleague) == [GrantKind.ASSIGNMENT]
    assert _kinds(access, supervisor) == [GrantKind.SUPERVISOR]
    share = next(h for h in access.holders(people) if h.user == partner).grants[0]
    assert (share.kind, share.agency_name, share.by) == (
        GrantKind.SHARE,
        other_agency.name,
        supervisor,
    )


@pytest.mark.django_db
def test_break_glass_shows_until_when_and_disappears_when_it_ends(supervisor, case, other_agency):
    helper = UserFactory(agency=other_agency, role=Role.FRONTLINE_OFFICER)
    now = timezone.now()
    BreakGlassGrant.objects.create(
        case=case,
        user=helper,
        reason="Fictional emergency",
        granted_at=now - timedelta(hours=5),
        expires_at=now - timedelta(hours=1),
    )
    running = BreakGlassGrant.objects.create(
        case=case,
        user=helper,
        reason="Fictional emergency",
        granted_at=now - timedelta(minutes=1),
        expires_at=now + timedelta(hours=4),
    )
    access = case_access_list(user=supervisor, case_reference_or_id=case.reference)
    (grant,) = next(h for h in access.holders(access.people) if h.user == helper).grants
    assert (grant.kind, grant.until) == (GrantKind.BREAK_GLASS, running.expires_at)

    BreakGlassGrant.objects.filter(pk=running.pk).update(expires_at=now - timedelta(seconds=1))
    access = case_access_list(user=supervisor, case_reference_or_id=case.reference)
    assert helper not in list(access.people)


@pytest.mark.django_db
def test_a_worker_of_the_case_may_see_the_list_a_shared_to_agency_may_not(
    officer, colleague, case, other_agency, supervisor, outsider
):
    assert case_access_list(user=officer, case_reference_or_id=case.reference).case == case
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    with pytest.raises(errors.ActionNotAllowed):
        case_access_list(user=outsider, case_reference_or_id=case.reference)
    with pytest.raises(errors.CaseNotFound):
        case_access_list(user=colleague, case_reference_or_id=case.reference)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 6])
def test_the_grants_of_a_page_take_a_fixed_number_of_queries(
    supervisor, case, agency, other_agency, count, django_assert_num_queries
):
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    for _ in range(count):
        services.case_assign(
            case=case, worker=UserFactory(agency=agency, role=Role.SOCIAL_WORKER), by=supervisor
        )
        UserFactory(agency=other_agency, role=Role.SOCIAL_WORKER)
    access = case_access_list(user=supervisor, case_reference_or_id=case.reference)
    # the people (with their agencies), their roles; assignments, shares, break-glass
    with django_assert_num_queries(5):
        holders = access.holders(access.people)
        roles = [[group.name for group in h.user.groups.all()] for h in holders]
    assert len(holders) == len(roles) == 2 + 2 * count
