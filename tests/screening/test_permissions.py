"""Who sees and does what with a case: the permission matrix, and lists in one query."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import errors
from screening import services
from screening.models import Case
from screening.permissions import CaseAction, ScreeningAction, case_access, screening_access
from screening.roles import Role
from screening.selectors import agency_case_list, case_list
from screening.services.break_glass import break_glass_request
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

ALLOWED, FORBIDDEN, NOT_FOUND = "allowed", "403", "404"
RELATIONS = [
    "creator",
    "assigned",
    "same_agency",
    "other_agency",
    "shared_to",
    "break_glass",
    "break_glass_expired",
]
SUPERVISOR_ACTIONS = {CaseAction.ASSIGN, CaseAction.SHARE, CaseAction.LEGAL_HOLD}


def expected(role: str, relation: str, action: str) -> str:
    """The rules of issue 4, written out independently of the code under test."""
    if role == Role.AGENCY_ADMIN:
        return NOT_FOUND  # administrators manage staff, never case data
    if relation in ("other_agency", "break_glass_expired"):
        return NOT_FOUND
    if relation == "break_glass":
        if role == Role.PROVIDER_STAFF:
            return NOT_FOUND  # provider staff may not break the glass: no grant was made
        return ALLOWED if action == CaseAction.VIEW else FORBIDDEN
    if relation == "shared_to":
        return ALLOWED if action == CaseAction.VIEW else FORBIDDEN
    if role == Role.SUPERVISOR:  # supervisors of the owning agency: everything
        return ALLOWED
    if relation == "same_agency":
        return NOT_FOUND  # a colleague who is neither creator nor assigned
    return FORBIDDEN if action in SUPERVISOR_ACTIONS else ALLOWED


MATRIX = [
    (role, relation, action)
    for role in Role.values
    for relation in RELATIONS
    for action in CaseAction.values
    # an administrator cannot create cases or be assigned to one
    if not (role == Role.AGENCY_ADMIN and relation in ("creator", "assigned"))
]


@pytest.fixture
def scene():
    owner, other, shared_to = AgencyFactory(), AgencyFactory(), AgencyFactory()
    owner_supervisor = UserFactory(agency=owner, role=Role.SUPERVISOR)
    creator = UserFactory(agency=owner, role=Role.FRONTLINE_OFFICER)

    def build(role: str, relation: str) -> tuple[Case, object]:
        agency = {"other_agency": other, "shared_to": shared_to}.get(relation, owner)
        if relation.startswith("break_glass"):
            agency = other
        user = UserFactory(agency=agency, role=role)
        case = services.case_create(created_by=user if relation == "creator" else creator)
        services.case_share(case=case, agency=shared_to, reason="Joint work", by=owner_supervisor)
        if relation == "assigned":
            services.case_assign(case=case, worker=user, by=owner_supervisor)
        if relation.startswith("break_glass"):
            asked_at = timezone.now()
            if relation == "break_glass_expired":
                asked_at -= timedelta(hours=settings.BREAK_GLASS_HOURS, seconds=1)
            try:
                break_glass_request(
                    user=user, case_reference=case.reference, reason="Fictional", now=asked_at
                )
            except errors.ActionNotAllowed:
                assert role in (Role.PROVIDER_STAFF, Role.AGENCY_ADMIN)
        return case, user

    return build


def attempt(user, case: Case, action: str) -> str:
    try:
        case_access(user=user, case_reference_or_id=case.reference, action=action)
    except errors.CaseNotFound:
        return NOT_FOUND
    except errors.ActionNotAllowed:
        return FORBIDDEN
    return ALLOWED


@pytest.mark.parametrize(("role", "relation", "action"), MATRIX)
def test_permission_matrix(scene, role, relation, action):
    case, user = scene(role, relation)

    assert attempt(user, case, action) == expected(role, relation, action)
    # Lists agree with the access function.
    visible = Case.objects.visible_to(user).filter(pk=case.pk).exists()
    assert visible == (expected(role, relation, CaseAction.VIEW) == ALLOWED)


def test_missing_and_forbidden_cases_raise_the_same_error(scene):
    case, outsider = scene(Role.SUPERVISOR, "other_agency")
    with pytest.raises(errors.CaseNotFound) as forbidden:
        case_access(user=outsider, case_reference_or_id=case.reference, action="view")
    with pytest.raises(errors.CaseNotFound) as missing:
        case_access(user=outsider, case_reference_or_id="C-NONE-XIST", action="view")
    assert str(forbidden.value) == str(missing.value)
    assert case.reference not in str(forbidden.value)


def test_an_inactive_or_agencyless_account_sees_nothing(scene):
    case, creator = scene(Role.FRONTLINE_OFFICER, "creator")
    creator.is_active = False
    assert attempt(creator, case, "view") == NOT_FOUND
    superuser = UserFactory(agency=None, is_superuser=True, role=Role.SUPERVISOR)
    assert attempt(superuser, case, "view") == NOT_FOUND


@pytest.mark.parametrize(
    ("relation", "role", "outcomes"),
    [
        (
            "creator",
            Role.FRONTLINE_OFFICER,
            {"view": ALLOWED, "change": ALLOWED, "review": FORBIDDEN, "override": FORBIDDEN},
        ),
        (
            "same_agency",
            Role.SUPERVISOR,
            {"view": ALLOWED, "change": ALLOWED, "review": ALLOWED, "override": ALLOWED},
        ),
        (
            "shared_to",
            Role.SUPERVISOR,
            {"view": ALLOWED, "change": FORBIDDEN, "review": FORBIDDEN, "override": FORBIDDEN},
        ),
        (
            "other_agency",
            Role.SUPERVISOR,
            {"view": NOT_FOUND, "change": NOT_FOUND, "review": NOT_FOUND, "override": NOT_FOUND},
        ),
    ],
)
def test_screening_access_follows_the_case(scene, instrument_version, relation, role, outcomes):
    case, user = scene(role, relation)
    services.consent_record(case=case, by=case.created_by, scope="screening", method="verbal")
    screening = services.screening_start(
        case=case,
        by=case.created_by,
        instrument_version=instrument_version,
        setting="clinic",
        safe_to_talk="yes",
        alone="yes",
    )
    for action in ScreeningAction.values:
        if action not in outcomes:
            continue
        try:
            screening_access(user=user, screening_id=screening.pk, action=action)
            result = ALLOWED
        except errors.ScreeningNotFound:
            result = NOT_FOUND
        except errors.ActionNotAllowed:
            result = FORBIDDEN
        assert result == outcomes[action], action


# --- lists: one query, whatever the size -----------------------------------------------------


def _make_visible_cases(count: int, *, user, supervisor, creator, other_supervisor):
    """`count` cases the user sees through each route, plus as many they must not see."""
    for index in range(count):
        route = index % 3
        if route == 0:
            services.case_create(created_by=user)
        elif route == 1:
            case = services.case_create(created_by=creator)
            services.case_assign(case=case, worker=user, by=supervisor)
        else:
            case = services.case_create(created_by=other_supervisor)
            services.case_share(
                case=case, agency=user.agency, reason="Joint work", by=other_supervisor
            )
        services.case_create(created_by=creator)  # same agency, not assigned: invisible


@pytest.fixture
def list_scene():
    agency, elsewhere = AgencyFactory(), AgencyFactory()
    return {
        "user": UserFactory(agency=agency, role=Role.SOCIAL_WORKER),
        "supervisor": UserFactory(agency=agency, role=Role.SUPERVISOR),
        "creator": UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER),
        "other_supervisor": UserFactory(agency=elsewhere, role=Role.SUPERVISOR),
    }


def test_visible_to_is_one_query_over_indexed_sets_with_the_role_decided_in_python(list_scene):
    _make_visible_cases(6, **list_scene)
    user = list_scene["user"]
    assert user.role_names  # loaded once per request, before any list
    with CaptureQueriesContext(connection) as queries:
        cases = list(Case.objects.visible_to(user))
    assert len(cases) == 6
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    # Grants, shares and break-glass grants as one set of ids (issue 12), and no role
    # lookup in SQL: the groups were read once, in Python.
    assert "UNION" in sql
    assert "AUTH_GROUP" not in sql


@pytest.mark.parametrize("count", [3, 6])
def test_case_list_query_count_does_not_grow_with_the_list(
    list_scene, count, django_assert_num_queries
):
    _make_visible_cases(count, **list_scene)
    user = list_scene["user"]
    with django_assert_num_queries(1):
        rows = [
            (case.reference, case.agency.name, case.created_by.username, case.user_can_change)
            for case in case_list(user=user)
        ]
    assert len(rows) == count
    # Own and assigned cases are changeable; shared-in ones are view-only.
    assert sum(can_change for *_, can_change in rows) == count - count // 3


def test_a_supervisor_sees_every_case_of_their_agency_and_cases_shared_with_it(list_scene):
    _make_visible_cases(3, **list_scene)
    supervisor = list_scene["supervisor"]
    cases = list(case_list(user=supervisor))
    own = [case for case in cases if case.agency_id == supervisor.agency_id]
    shared_in = [case for case in cases if case.agency_id != supervisor.agency_id]

    assert len(own) == 5  # 2 the worker also sees + 3 nobody but creator and supervisor sees
    assert all(case.user_supervises and case.user_can_change for case in own)
    assert len(shared_in) == 1
    assert not shared_in[0].user_supervises and not shared_in[0].user_can_change
    assert list(agency_case_list(user=supervisor)) == own


def test_anonymous_visitors_see_no_case(scene):
    from django.contrib.auth.models import AnonymousUser

    case, _ = scene(Role.FRONTLINE_OFFICER, "creator")
    assert attempt(AnonymousUser(), case, "view") == NOT_FOUND
    assert list(case_list(user=AnonymousUser())) == []
