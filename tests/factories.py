"""factory_boy factories shared by the suite. All people are fictional."""

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from screening.models import Agency, Case, Consent, User
from screening.roles import Role


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Test Agency {n}")
    kind = Agency.Kind.NGO_SOCIAL_SERVICES
    region = "Testshire"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    agency = factory.SubFactory(AgencyFactory)
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        role = extracted or Role.FRONTLINE_OFFICER
        if create:
            # get_or_create: a transactional test's flush removes the groups the data
            # migration made, and the next transactional test may run in any order.
            self.groups.add(Group.objects.get_or_create(name=Role(role).value)[0])


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    agency = factory.SubFactory(AgencyFactory)
    created_by = factory.SubFactory(UserFactory, agency=factory.SelfAttribute("..agency"))


class ConsentFactory(factory.django.DjangoModelFactory):
    """A verbal screening consent given now. Bypasses services: use for setting the scene."""

    class Meta:
        model = Consent

    case = factory.SubFactory(CaseFactory)
    scope = Consent.Scope.SCREENING
    method = Consent.Method.VERBAL
    given_by = factory.SelfAttribute("case.created_by")
    given_at = factory.LazyFunction(timezone.now)
