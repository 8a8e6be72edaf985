"""The load generator itself: agencies and staff, then cases in chunks with every row that
hangs off them, written in bulk (see referrals/loadgen/__init__.py for what and why)."""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import io
import multiprocessing
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db.models import Max

from config import crypto
from config.encrypted import Ciphertext
from config.models import AccessLogEntry
from indicators.models import InstrumentVersion
from referrals import models as referral_models
from referrals.loadgen import fiction
from referrals.loadgen.plan import LoadPlan
from referrals.loadgen.results import ResultBook
from referrals.loadgen.writers import (
    DeferredIndexes,
    RawJson,
    raw_json,
    row_writer,
    sequences_reset,
)
from referrals.models import Priority, Referral, ReferralEvent, ReferralStatus, ServiceProvider
from referrals.services.delivery import CONSENTED_FIELDS, EMAIL_FIELDS, MANDATORY_FIELDS
from screening.identifiers import identifiers_of
from screening.models import (
    Agency,
    Case,
    CaseAssignment,
    CaseShare,
    CaseUserObjectPermission,
    Consent,
    Contact,
    IdentifierDigest,
    Screening,
    ScreeningOverride,
    User,
)
from screening.roles import Role
from screening.services import agency_ensure

S = ReferralStatus
HOUR = dt.timedelta(hours=1)
# Everything that happens to a case happens within this many hours of its creation (scaled
# down for cases younger than that, so nothing lies in the future).
CASE_LIFETIME_HOURS = 1440
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as screening.models.new_case_reference
TRIAGE_SLUG = "hotline-triage"

# Where a referral ended up, for referrals younger than 90 days and older ones: old
# referrals have mostly finished.
_RECENT_STATUSES = {
    S.PROPOSED: 2,
    S.BLOCKED_NEEDS_CONSENT: 10,
    S.PENDING_APPROVAL: 10,
    S.APPROVED: 3,
    S.SENT: 10,
    S.ACKNOWLEDGED: 7,
    S.ACCEPTED: 12,
    S.DECLINED: 8,
    S.SERVICES_STARTED: 10,
    S.CLOSED: 13,
    S.CANCELLED: 6,
    S.EXPIRED: 6,
    S.FAILED: 3,
}
_OLD_STATUSES = {
    S.PROPOSED: 0.1,
    S.BLOCKED_NEEDS_CONSENT: 0.5,
    S.PENDING_APPROVAL: 0.4,
    S.APPROVED: 0.1,
    S.SENT: 0.4,
    S.ACKNOWLEDGED: 0.3,
    S.ACCEPTED: 4,
    S.DECLINED: 12,
    S.SERVICES_STARTED: 8,
    S.CLOSED: 45,
    S.CANCELLED: 10,
    S.EXPIRED: 18,
    S.FAILED: 0.2,
}


def _cumulative(weights: dict[str, float]) -> tuple[list[str], list[float]]:
    total, cumulative = 0.0, []
    for weight in weights.values():
        total += weight
        cumulative.append(total)
    return list(weights), cumulative


_RECENT_CUMULATIVE = _cumulative(_RECENT_STATUSES)
_OLD_CUMULATIVE = _cumulative(_OLD_STATUSES)
# The transitions that lead to each status (referrals/services/transitions.py allows each).
_PATHS = {
    S.PROPOSED: (S.PROPOSED,),
    S.BLOCKED_NEEDS_CONSENT: (S.PROPOSED, S.BLOCKED_NEEDS_CONSENT),
    S.PENDING_APPROVAL: (S.PROPOSED, S.PENDING_APPROVAL),
    S.APPROVED: (S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED),
    S.SENT: (S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED, S.SENT),
    S.ACKNOWLEDGED: (S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.ACKNOWLEDGED),
    S.ACCEPTED: (S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.ACCEPTED),
    S.SERVICES_STARTED: (
        S.PROPOSED,
        S.PENDING_APPROVAL,
        S.APPROVED,
        S.SENT,
        S.ACCEPTED,
        S.SERVICES_STARTED,
    ),
    S.CLOSED: (S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.ACCEPTED, S.CLOSED),
    S.CANCELLED: (S.PROPOSED, S.PENDING_APPROVAL, S.CANCELLED),
    S.EXPIRED: (S.PROPOSED, S.PENDING_APPROVAL, S.EXPIRED),
    S.FAILED: (S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED, S.FAILED),
}
_DECLINED_BY_SUPERVISOR = (S.PROPOSED, S.PENDING_APPROVAL, S.DECLINED)
_DECLINED_BY_PROVIDER = (S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.DECLINED)
_SUPERVISOR_REASONS = ("not_appropriate", "person_declined", "duplicate", "safety_concern")
_PROVIDER_REASONS = ("no_capacity", "out_of_scope", "not_eligible")
# What came of a closed referral (a closed referral always has one: a database constraint).
# Picked from the row's id, not the generator's stream, so that the other rows stay as they were.
_CLOSED_OUTCOMES = ("services_delivered", "services_delivered", "person_declined", "not_reached")
# Not yet accepted by the provider: what a consent withdrawal cancels (transitions.py).
_NOT_YET_ACCEPTED = frozenset(
    {S.PROPOSED, S.BLOCKED_NEEDS_CONSENT, S.PENDING_APPROVAL, S.APPROVED, S.SENT}
) | {S.ACKNOWLEDGED, S.FAILED}
_PAST_APPROVAL = frozenset({S.APPROVED, S.SENT, S.ACKNOWLEDGED, S.ACCEPTED})
_PAST_APPROVAL |= {S.SERVICES_STARTED, S.CLOSED, S.FAILED}
_DELIVERED = frozenset({S.SENT, S.ACKNOWLEDGED, S.ACCEPTED, S.SERVICES_STARTED, S.CLOSED})

# The outcome bands the default routing file sends on (seeds/routing/default-routing.v1.yaml).
_INDICATED = frozenset(
    {"indicated", "serious_concern", "screen_positive", "strongly_concerning", "crisis"}
)
_POSSIBLE = frozenset({"possible", "some_concern", "indeterminate", "concerning", "priority"})
_CORE_SERVICES = (("shelter", 2), ("medical", 2), ("legal_aid", 3), ("case_management", 2))

_SETTINGS_BY_KIND = {
    Agency.Kind.LAW_ENFORCEMENT: ("station", "street_field", "premises_inspection"),
    Agency.Kind.NGO_SOCIAL_SERVICES: ("shelter", "clinic", "street_field"),
    Agency.Kind.HOTLINE: ("hotline",),
    Agency.Kind.CHILD_WELFARE: ("shelter", "clinic"),
    Agency.Kind.SERVICE_PROVIDER: ("shelter", "clinic"),
}
_AGENCY_SUFFIX = {
    Agency.Kind.LAW_ENFORCEMENT: "Police Anti-Trafficking Unit",
    Agency.Kind.NGO_SOCIAL_SERVICES: "Outreach",
    Agency.Kind.HOTLINE: "Helpline",
    Agency.Kind.CHILD_WELFARE: "Children's Services",
}
_KIND_WEIGHTS = (
    (Agency.Kind.LAW_ENFORCEMENT, 35),
    (Agency.Kind.NGO_SOCIAL_SERVICES, 40),
    (Agency.Kind.HOTLINE, 10),
    (Agency.Kind.CHILD_WELFARE, 15),
)
_AGES = (13, 15, 16, 17, 19, 22, 25, 28, 31, 35, 42, 50, 61)
_LANGUAGES = ("en", "es", "pt", "ro", "vi", "tl", "pl", "ar", "uk")
_GENDERS = ("not_stated", "female", "male", "another")
_EXPLOITATION = ("unknown", "labour", "sexual", "both", "criminality")
_CLIENT_IPS = tuple(f"192.0.2.{n}" for n in range(1, 60)) + tuple(
    f"198.51.100.{n}" for n in range(1, 60)
)
# Contact profiles (channel, type, caller, exploitation, danger, minor): a short list, so
# each triage pattern is scored once per profile.
_CONTACT_PROFILES = (
    ("phone", "crisis", "possible_victim", "labour", True, False),
    ("phone", "tip", "community_member", "labour", False, False),
    ("phone", "tip", "community_member", "sexual", False, False),
    ("text", "crisis", "possible_victim", "sexual", True, False),
    ("chat", "referral_request", "service_provider", "unknown", False, False),
    ("phone", "information", "family_friend", "unknown", False, False),
    ("web_form", "tip", "anonymous", "criminality", False, False),
    ("phone", "crisis", "family_friend", "sexual", True, True),
    ("email", "training", "law_enforcement", "unknown", False, False),
    ("walk_in", "referral_request", "possible_victim", "both", False, True),
)


# Every table the generator writes rows to.
LOADED_MODELS = (
    Agency,
    User,
    User.groups.through,
    Case,
    CaseUserObjectPermission,
    CaseAssignment,
    CaseShare,
    Consent,
    Screening,
    ScreeningOverride,
    Referral,
    ReferralEvent,
    Contact,
    IdentifierDigest,
    AccessLogEntry,
)


# The most rows of each kind one case can bring with it (its contacts, consents, referrals
# and their events...): each chunk's ids are reserved from these.
ROWS_PER_CASE = {
    Case: 1,
    CaseUserObjectPermission: 6,
    CaseAssignment: 2,
    CaseShare: 1,
    Consent: 8,
    Screening: 2,
    ScreeningOverride: 2,
    Referral: 8,
    ReferralEvent: 64,
    Contact: 2,
    IdentifierDigest: 8,
    AccessLogEntry: 8,
}


@dataclass
class AgencyInfo:
    id: int
    kind: str
    region: str
    name: str
    workers: list[int] = field(default_factory=list)
    supervisors: list[int] = field(default_factory=list)
    creators: list[int] = field(default_factory=list)


def _reference_text(bits: int) -> str:
    body = "".join(REFERENCE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(8))
    return f"C-{body[:4]}-{body[4:]}"


def _seal(table: str, column: str, row_uid: uuid.UUID, text: str) -> Ciphertext | str:
    if not text:
        return ""
    aad = crypto.associated_data(table, column, row_uid)
    return Ciphertext(crypto.seal(text.encode(), aad=aad))


class Ids:
    """The next free primary key of each table (rows are written with their ids)."""

    def __init__(self, models_to_load) -> None:
        # Read before any row is written: the writer thread owns the connection afterwards.
        self._next: dict[type, int] = {
            model: (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
            for model in models_to_load
        }

    def take(self, model: type) -> int:
        value = self._next[model]
        self._next[model] = value + 1
        return value

    @property
    def models(self) -> list[type]:
        return list(self._next)

    def for_chunk(self, index: int, chunk: int) -> ChunkIds:
        return ChunkIds(
            {
                model: (self._next[model] + index * chunk * per_case, chunk * per_case)
                for model, per_case in ROWS_PER_CASE.items()
            }
        )

    def after_chunks(self, chunks: int, chunk: int) -> None:
        """Move past every range handed to chunks (for `sequences_reset`)."""
        for model, per_case in ROWS_PER_CASE.items():
            self._next[model] += chunks * chunk * per_case


class ChunkIds:
    """The primary keys one chunk of cases may use: a range per table reserved in advance,
    so chunks can be made in any order and in parallel and still give the same rows (ids
    left unused are gaps, as rolled-back inserts leave)."""

    def __init__(self, ranges: dict[type, tuple[int, int]]) -> None:
        self._next = {model: first for model, (first, _size) in ranges.items()}
        self._end = {model: first + size for model, (first, size) in ranges.items()}

    def take(self, model: type) -> int:
        value = self._next[model]
        if value >= self._end[model]:
            raise RuntimeError(f"a chunk made more {model.__name__} rows than ROWS_PER_CASE")
        self._next[model] = value + 1
        return value


@dataclass
class Counts:
    tables: dict[str, int]
    scorings: int
    write_seconds: dict[str, float]


class LoadGenerator:
    """Generates `plan` into the default database. Call `run()` inside a transaction."""

    def __init__(
        self,
        plan: LoadPlan,
        *,
        password: str,
        progress: Callable[[str, int | None], Any] | None = None,
        workers: int = 1,
    ) -> None:
        self.plan = plan
        self.workers = workers
        self.scorings = 0
        # Reproducible fictional data, not secrets: a seeded generator on purpose.
        self.rng = random.Random(plan.seed)  # noqa: S311
        self.writer = row_writer()
        self.password_hash = make_password(password)
        self.progress = progress or (lambda table, total: _NoBar())
        self.bars: dict[str, Any] = {}
        # Reproducible timestamps: the data ends at the start of the current UTC day.
        today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.anchor = today
        self.start = today - dt.timedelta(days=365.25 * plan.years)
        # The references cases in the database have (what chunks avoid), and every one taken
        # so far (what the writer checks each chunk against).
        self.existing_references: frozenset[str] = frozenset(
            Case.objects.values_list("reference", flat=True)
        )
        self.taken_references: set[str] = set(self.existing_references)
        # Row uids and idempotency keys must be unique across batches added with --append and
        # the same seed: their generator also depends on how many cases there were already.
        self.uid_seed = f"{plan.seed}:{len(self.taken_references)}"
        self.uid_rng = random.Random(self.uid_seed)  # noqa: S311
        self.redraw_rng = random.Random(f"{plan.seed}:redraw")  # noqa: S311
        self.chunk_references: set[str] = set()
        self.region = settings.PHONE_DEFAULT_REGION

    # --- helpers ---------------------------------------------------------------------------
    def _uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.uid_rng.getrandbits(128), version=4)

    def _reference(self) -> str:
        """A reference no case in the database has, nor another of this chunk (the writer
        checks against the other chunks)."""
        while True:
            reference = _reference_text(self.rng.getrandbits(40))
            if reference not in self.existing_references and reference not in self.chunk_references:
                self.chunk_references.add(reference)
                return reference

    def _write(self, model: type, rows: list[dict[str, Any]]) -> None:
        self.writer.write(model, rows)
        self._count(model, rows)

    def _count(self, model: type, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = model._meta.db_table
        bar = self.bars.get(table)
        if bar is None:
            bar = self.bars[table] = self.progress(table, None)
        bar.update(len(rows))

    def _identifier_digests(self, *, phone="", name="", documents="") -> list[tuple[str, str]]:
        """`identifiers_of` of the three values, each value's digests computed once (callers
        repeat, names recur): the same list, as it concatenates per kind."""
        found: list[tuple[str, str]] = []
        for kind, value in (("phone", phone), ("name", name), ("documents", documents)):
            if not value:
                continue
            key = (kind, value)
            digests = self._digests.get(key)
            if digests is None:
                digests = [
                    (identifier.kind, identifier.digest())
                    for identifier in identifiers_of(**{kind: value}, region=self.region)
                ]
                if len(self._digests) < 500_000:
                    self._digests[key] = digests
            found.extend(digests)
        return found

    def _json(self, value: Any) -> RawJson:
        """Small JSON values (languages, contexts, disclosed fields) serialised once each."""
        key = repr(value)
        found = self._small_json.get(key)
        if found is None:
            found = self._small_json[key] = raw_json(value)
        return found

    # --- reference data ----------------------------------------------------------------------
    def _reference_data(self) -> None:
        """Instruments, the seed agencies the provider directory names, routing rules and the
        provider directory: through the project's own loaders (idempotent)."""
        quiet = io.StringIO()
        call_command("load_instruments", stdout=quiet)
        directory = Path(settings.BASE_DIR) / "seeds" / "demo" / "directory.yaml"
        for agency in yaml.safe_load(directory.read_text(encoding="utf-8"))["agencies"]:
            agency_ensure(name=agency["name"], kind=agency["kind"], region=agency["region"])
        call_command("load_referral_seeds", stdout=quiet)
        self.versions = list(
            InstrumentVersion.objects.filter(status=InstrumentVersion.Status.PUBLISHED)
            .select_related("instrument")
            .order_by("instrument__slug", "number")
        )
        if not self.versions:
            raise RuntimeError("no published instrument version was loaded")
        self.book = ResultBook(self.versions, self.rng)
        by_audience: dict[str, list[int]] = {}
        for version in self.versions:
            if version.instrument.slug == TRIAGE_SLUG:
                continue
            # An observation checklist of a place is not a screening of a person: the generated
            # person screenings (safety gate, consent, declined answers) never use one.
            if self.book.definitions[version.pk].is_observation:
                continue
            by_audience.setdefault(version.instrument.audience, []).append(version.pk)
        self.versions_for_adults = by_audience.get("adult", []) + by_audience.get("premises", [])
        self.versions_for_children = by_audience.get("child", []) or self.versions_for_adults
        self.triage_version = next(
            (v.pk for v in reversed(self.versions) if v.instrument.slug == TRIAGE_SLUG), None
        )
        self.providers = list(ServiceProvider.objects.filter(is_active=True).order_by("pk"))
        self.providers_by_service: dict[str, list[ServiceProvider]] = {}
        for provider in self.providers:
            for service_type in provider.service_types:
                self.providers_by_service.setdefault(service_type, []).append(provider)
        rule_set = referral_models.RoutingRuleSet.objects.order_by("-number").first()
        self.rule_set_id = rule_set.pk if rule_set else None
        self.permission_ids = {
            codename: Permission.objects.get(
                content_type__app_label="screening", codename=codename
            ).pk
            for codename in ("view_case", "change_case")
        }
        self.groups = {group.name: group.pk for group in Group.objects.all()}
        missing = set(Role.values) - set(self.groups)
        if missing:
            raise RuntimeError(f"role groups missing (run migrate): {sorted(missing)}")

    # --- agencies and staff ----------------------------------------------------------------
    def _agencies_and_staff(self) -> None:
        rng, plan = self.rng, self.plan
        taken_names = set(Agency.objects.values_list("name", flat=True))
        kinds = [kind for kind, _ in _KIND_WEIGHTS]
        weights = [weight for _, weight in _KIND_WEIGHTS]
        regions = list(fiction.DIRECTORY_REGIONS) + [fiction.place_name(rng) for _ in range(12)]
        self.agencies: list[AgencyInfo] = []
        rows = []
        for rank in range(plan.agencies):
            # The second largest is a national hotline: contacts need one.
            kind = Agency.Kind.HOTLINE if rank == 1 else rng.choices(kinds, weights)[0]  # noqa: S311
            if plan.agencies == 1:
                kind = Agency.Kind.HOTLINE
            region = rng.choice(regions)
            base = f"{fiction.place_name(rng)} {_AGENCY_SUFFIX[kind]}"
            name, number = base, 2
            while name in taken_names:
                name, number = f"{base} {number}", number + 1
            taken_names.add(name)
            agency_id = self.ids.take(Agency)
            rows.append(
                {
                    "id": agency_id,
                    "name": name,
                    "kind": kind,
                    "region": region,
                    "is_active": True,
                    "created_at": self.start,
                }
            )
            self.agencies.append(AgencyInfo(agency_id, kind, region, name))
        self._write(Agency, rows)
        self.agency_by_id = {agency.id: agency for agency in self.agencies}
        cumulative, total = [], 0.0
        for weight in plan.agency_weights():
            total += weight
            cumulative.append(total)
        self.agency_cumulative = cumulative

        # Staff in proportion to each agency's cases, at least MIN_STAFF_PER_AGENCY each.
        shares = plan.agency_weights()
        sizes = [max(4, int(plan.staff * share)) for share in shares]
        for index in range(plan.staff - sum(sizes)):
            sizes[index % len(sizes)] += 1
        users, memberships = [], []
        self.user_roles: dict[int, str] = {}
        for agency, size in zip(self.agencies, sizes, strict=True):
            supervisors = max(1, round(size / 12))
            for position in range(size):
                if position == 0:
                    role = Role.AGENCY_ADMIN
                elif position <= supervisors:
                    role = Role.SUPERVISOR
                elif agency.kind == Agency.Kind.HOTLINE:
                    role = Role.HOTLINE_STAFF
                elif agency.kind == Agency.Kind.LAW_ENFORCEMENT or rng.random() < 0.3:
                    role = Role.FRONTLINE_OFFICER
                else:
                    role = Role.SOCIAL_WORKER
                user_id = self._user(users, memberships, agency.id, role)
                if role == Role.SUPERVISOR:
                    agency.supervisors.append(user_id)
                elif role != Role.AGENCY_ADMIN:
                    agency.workers.append(user_id)
            # Most cases are opened by case workers, some by supervisors.
            agency.creators = agency.workers * 9 + agency.supervisors
        # Provider staff answer the in-system inbox of the seed provider agencies.
        self.provider_staff: dict[int, list[int]] = {}
        for agency_id in sorted({p.agency_id for p in self.providers if p.agency_id}):
            self.provider_staff[agency_id] = [
                self._user(users, memberships, agency_id, Role.PROVIDER_STAFF) for _ in range(3)
            ]
        self._write(User, users)
        self._write(User.groups.through, memberships)
        self.writer.finish()

    def _user(self, users: list, memberships: list, agency_id: int, role: str) -> int:
        given, family = fiction.person_name(self.rng)
        user_id = self.ids.take(User)
        users.append(
            {
                "id": user_id,
                "password": self.password_hash,
                "username": f"{given.lower()}.{family.lower()}.{user_id}",
                "first_name": given,
                "last_name": family,
                "email": "",
                "is_active": True,
                "date_joined": self.start,
                "agency_id": agency_id,
            }
        )
        memberships.append(
            {
                "id": self.ids.take(User.groups.through),
                "user_id": user_id,
                "group_id": self.groups[role],
            }
        )
        self.user_roles[user_id] = role
        return user_id

    # --- cases -------------------------------------------------------------------------------
    def run(self) -> Counts:
        self._digests: dict[tuple, list[tuple[str, str]]] = {}
        self._triage_patterns: dict[int, RawJson] = {}
        self._small_json: dict[str, RawJson] = {}
        self._reference_data()
        deferred = DeferredIndexes(LOADED_MODELS)
        deferred.drop()
        self.ids = Ids(LOADED_MODELS)
        self._agencies_and_staff()
        self.phones = fiction.phone_pool(max(50, self.plan.cases // 20), self.rng)
        self.staff_ids = self.ids
        cases_bar = self.progress("cases", self.plan.cases)
        chunks = -(-self.plan.cases // self.plan.chunk)
        for rows, scorings in self._chunks(chunks):
            self._chunk_write(rows)
            self.scorings += scorings
            cases_bar.update(len(rows[Case]))
        self.staff_ids.after_chunks(chunks, self.plan.chunk)
        cases_bar.close()
        self.writer.finish()
        index_bar = self.progress(
            "indexes and constraints", len(deferred.indexes) + len(deferred.constraints)
        )
        deferred.restore(on_step=lambda name: index_bar.update(1))
        index_bar.close()
        for bar in self.bars.values():
            bar.close()
        sequences_reset(self.staff_ids.models)
        counts = dict(self.writer.counts)
        return Counts(
            tables=counts, scorings=self.scorings, write_seconds=dict(self.writer.seconds)
        )

    def _created_at(self, index: int) -> dt.datetime:
        # More cases in recent years (use grows): position^1.3 over the span.
        position = ((index + self.rng.random()) / self.plan.cases) ** (1 / 1.3)
        return self.start + (self.anchor - self.start) * position

    def _chunks(self, chunks: int) -> Iterator[tuple[dict[type, list], int]]:
        """Each chunk's rows, in order: made here, or by `workers` forked processes (which
        share everything loaded so far and never touch the database connection)."""
        if self.workers <= 1 or chunks <= 1:
            for index in range(chunks):
                yield self.chunk_rows(index)
            return
        global _FORKED  # noqa: PLW0603 - the state forked workers read
        _FORKED = self
        with multiprocessing.get_context("fork").Pool(self.workers) as pool:
            pending: collections.deque = collections.deque()
            for index in range(chunks):
                pending.append(pool.apply_async(_forked_chunk_rows, (index,)))
                # At most a chunk per worker ahead of the writer: memory stays bounded.
                if len(pending) > self.workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

    def chunk_rows(self, index: int) -> tuple[dict[type, list], int]:
        """The rows of chunk `index` and how many new engine scorings they took: a function
        of the seed and the index alone (its own random streams and reserved ids)."""
        first = index * self.plan.chunk
        size = min(self.plan.chunk, self.plan.cases - first)
        # Seeded per chunk: the same chunk gives the same rows wherever it is made.
        self.rng = random.Random(f"{self.plan.seed}:chunk:{index}")  # noqa: S311
        self.uid_rng = random.Random(f"{self.uid_seed}:chunk:{index}")  # noqa: S311
        self.ids = self.staff_ids.for_chunk(index, self.plan.chunk)
        self.chunk_references: set[str] = set()
        scorings = self.book.scorings
        out: dict[type, list[dict[str, Any]]] = {model: [] for model in ROWS_PER_CASE}
        chunk_cases: list[tuple[int, int, int, dt.datetime]] = []
        for case_index in range(first, first + size):
            chunk_cases.append(self._case(case_index, out))
        self._contacts(chunk_cases, out)
        return out, self.book.scorings - scorings

    def _chunk_write(self, rows: dict[type, list]) -> None:
        # References are unique within a chunk; across chunks (made apart) the writer checks.
        for case in rows[Case]:
            if case["reference"] in self.taken_references:
                self._reference_redraw(case, rows)
            self.taken_references.add(case["reference"])
        self.writer.write_batch(list(rows.items()))
        for model, model_rows in rows.items():
            self._count(model, model_rows)

    def _reference_redraw(self, case: dict[str, Any], rows: dict[type, list]) -> None:
        """Another chunk drew this reference first (odds about 1 in 50,000 a chunk at 1M
        cases): a new one from the writer's own stream, in the case and its log entries."""
        taken = case["reference"]
        while case["reference"] in self.taken_references:
            bits = self.redraw_rng.getrandbits(40)
            case["reference"] = _reference_text(bits)
        for entry in rows[AccessLogEntry]:
            if entry["case_id"] == case["id"] and entry["object_ref"] == taken:
                entry["object_ref"] = case["reference"]

    def _case(self, index: int, out: dict[type, list]) -> tuple[int, int, int, dt.datetime]:
        """One case and what hangs off it; returns its id, creator, agency and creation time."""
        rng = self.rng
        agency = self.agencies[
            min(bisect.bisect_left(self.agency_cumulative, rng.random()), len(self.agencies) - 1)
        ]
        created_at = self._created_at(index)
        age_days = (self.anchor - created_at) / dt.timedelta(days=1)
        scale = min(1.0, (self.anchor - created_at) / (CASE_LIFETIME_HOURS * HOUR))

        def at(hours: float) -> dt.datetime:
            return created_at + HOUR * (hours * scale)

        case_id = self.ids.take(Case)
        reference = self._reference()
        row_uid = self._uid()
        creator = rng.choice(agency.creators)
        supervisor = rng.choice(agency.supervisors)
        table = "screening_case"

        # The person.
        roll = rng.random()
        age = None
        if roll < 0.55:
            age = rng.choice(_AGES)
            band = "minor" if age < 18 else "adult"
        elif roll < 0.62:
            band = "minor"
        elif roll < 0.8:
            band = "adult"
        else:
            band = "unknown"
        minor = band == "minor"
        exploitation = rng.choice(_EXPLOITATION)
        given, family = fiction.person_name(rng)
        name = f"{given} {family}" if rng.random() < 0.6 else ""
        phone = rng.choice(self.phones) if rng.random() < 0.35 else ""
        documents = fiction.document_text(rng) if rng.random() < 0.2 else ""
        narrative = rng.choice(fiction.NARRATIVES) if rng.random() < 0.5 else ""
        nationality = rng.choice(fiction.NATIONALITIES) if rng.random() < 0.5 else ""

        closed_p = 0.85 if age_days > 365 else 0.3 if age_days > 60 else 0.05
        closed = rng.random() < closed_p
        closed_at = at(rng.uniform(1000, 1400)) if closed else None
        creator_roles = self.user_roles[creator]
        case = {
            "id": case_id,
            "reference": reference,
            "agency_id": agency.id,
            "created_by_id": creator,
            "status": "closed" if closed else "open",
            "row_uid": row_uid,
            "identifying_name": _seal(table, "identifying_name", row_uid, name),
            "identifying_phone": _seal(table, "identifying_phone", row_uid, phone),
            "identifying_documents": _seal(table, "identifying_documents", row_uid, documents),
            "narrative": _seal(table, "narrative", row_uid, narrative),
            "age": age,
            "age_band": band,
            "gender": rng.choice(_GENDERS),
            "languages": self._json(rng.sample(_LANGUAGES, rng.choice((0, 1, 1, 2)))),
            "nationality": _seal(table, "nationality", row_uid, nationality),
            "region": agency.region,
            "exploitation_type": exploitation,
            "safe_to_contact": rng.choice(("yes", "no", "unknown")),
            "do_not_contact": rng.random() < 0.1,
            "mandatory_report_required": minor,
            "urgent": False,
            "closed_at": closed_at,
            "closed_by_id": (supervisor if rng.random() < 0.5 else creator) if closed else None,
            "close_reason": _seal(
                table, "close_reason", row_uid, rng.choice(fiction.CLOSE_REASONS) if closed else ""
            ),
            "created_at": created_at,
            "updated_at": closed_at or created_at,
        }
        if rng.random() < 0.002:
            case["legal_hold_at"] = at(1410)
            case["legal_hold_by_id"] = supervisor
            case["legal_hold_reason"] = _seal(
                table, "legal_hold_reason", row_uid, "Court proceedings pending."
            )
        out[Case].append(case)
        for kind, digest in self._identifier_digests(phone=phone, name=name, documents=documents):
            out[IdentifierDigest].append(
                {
                    "id": self.ids.take(IdentifierDigest),
                    "kind": kind,
                    "digest": digest,
                    "case_id": case_id,
                    "contact_id": None,
                }
            )

        # Who works on it: the creator, and 0-2 assigned colleagues (grant_worker each).
        workers = [creator]
        others = [
            worker
            for worker in rng.sample(agency.workers, min(3, len(agency.workers)))
            if worker != creator
        ]
        for worker in others[: rng.choice((0, 0, 0, 1, 1, 1, 1, 2, 2))]:
            workers.append(worker)
            out[CaseAssignment].append(
                {
                    "id": self.ids.take(CaseAssignment),
                    "case_id": case_id,
                    "worker_id": worker,
                    "assigned_by_id": supervisor,
                    "assigned_at": at(2),
                }
            )
        for worker in workers:
            for permission_id in self.permission_ids.values():
                out[CaseUserObjectPermission].append(
                    {
                        "id": self.ids.take(CaseUserObjectPermission),
                        "permission_id": permission_id,
                        "user_id": worker,
                        "content_object_id": case_id,
                    }
                )

        context = {"age": age, "exploitation_type": exploitation}
        flags = self._screenings(case, agency, workers, supervisor, context, at, out)
        if flags & {"minor", "mandatory_report", "child_welfare_referral"} or minor:
            case["mandatory_report_required"] = True
        if flags & {"immediate_danger", "urgent"}:
            case["urgent"] = True
        if rng.random() < 0.015:
            self._share(case, agency, supervisor, at, out)
        self._access_log(case, agency, workers, supervisor, creator_roles, at, out)
        return case_id, creator, agency.id, created_at

    def _consent(
        self,
        out,
        case,
        *,
        scope,
        by,
        given_at,
        valid_until=None,
        service_type="",
        method="verbal",
        withdrawn_at=None,
    ) -> int:
        rng = self.rng
        consent_id = self.ids.take(Consent)
        row_uid = self._uid()
        interpreter = rng.random() < 0.12
        row = {
            "id": consent_id,
            "case_id": case["id"],
            "scope": scope,
            "service_type": service_type,
            "method": method,
            "interpreter_used": interpreter,
            "interpreter_language": rng.choice(_LANGUAGES) if interpreter else "",
            "row_uid": row_uid,
            "witness": _seal(
                "screening_consent",
                "witness",
                row_uid,
                "A fictional colleague" if method == "written" else "",
            ),
            "given_by_id": by,
            "given_at": given_at,
            "valid_until": valid_until,
            "withdrawn_at": withdrawn_at,
            "withdrawn_by_id": by if withdrawn_at else None,
            "withdrawal_note": _seal(
                "screening_consent",
                "withdrawal_note",
                row_uid,
                rng.choice(fiction.WITHDRAWAL_NOTES) if withdrawn_at else "",
            ),
        }
        out[Consent].append(row)
        return consent_id

    def _screenings(self, case, agency, workers, supervisor, context, at, out) -> frozenset:
        rng = self.rng
        roll = rng.random()
        count = 0 if roll < 0.15 else 1 if roll < 0.85 else 2
        if not count:
            return frozenset()
        screener = workers[0]
        withdrawn = at(1300) if rng.random() < 0.03 else None
        consent_id = self._consent(
            out,
            case,
            scope="screening",
            by=screener,
            given_at=at(0.5),
            method=rng.choice(("verbal", "verbal", "written")),
            withdrawn_at=withdrawn,
        )
        versions = (
            self.versions_for_children
            if case["age_band"] == "minor"
            else (self.versions_for_adults)
        )
        flags: frozenset[str] = frozenset()
        last_scored = None
        closed = case["status"] == "closed"
        for number in range(count):
            version_id = rng.choice(versions)
            pattern = rng.randrange(len(self.book.patterns[version_id]))
            answers_json = self.book.patterns[version_id][pattern][1]
            started = at(1 + 100 * number)
            offset = 100 * number
            roll = rng.random()
            if closed or withdrawn:
                status = "submitted" if roll < 0.45 else "reviewed" if roll < 0.9 else "voided"
            else:
                status = (
                    "draft"
                    if roll < 0.15
                    else "submitted"
                    if roll < 0.6
                    else "reviewed"
                    if roll < 0.95
                    else "voided"
                )
            scored = None
            if status in ("submitted", "reviewed") or (status == "voided" and roll < 0.97):
                scored = self.book.scored(version_id, pattern, context)
            screening_id = self.ids.take(Screening)
            row_uid = self._uid()
            interpreter = rng.random() < 0.15
            submitted_at = at(1.5 + offset) if scored else None
            row = {
                "id": screening_id,
                "case_id": case["id"],
                "instrument_version_id": version_id,
                "screener_id": screener,
                "setting": rng.choice(_SETTINGS_BY_KIND[agency.kind]),
                "safe_to_talk": "yes",
                "alone": "yes",
                "interpreter_used": interpreter,
                "interpreter_language": rng.choice(_LANGUAGES) if interpreter else "",
                "interpreter_independent": True if interpreter else None,
                "consent_id": consent_id,
                "answers": answers_json,
                "context": self._json(context),
                "status": status,
                "result": scored.result if scored else None,
                "outcome": scored.outcome if scored else "",
                "engine_version": scored.engine_version if scored else "",
                "version": 3 if scored else 2,
                "started_at": started,
                "updated_at": submitted_at or started,
                "submitted_at": submitted_at,
                "submitted_by_id": screener if scored else None,
                "row_uid": row_uid,
            }
            if status == "reviewed":
                reviewer = supervisor if supervisor != screener else None
                if reviewer is None:
                    row["status"] = status = "submitted"
                else:
                    row["reviewed_at"] = at(21.5 + offset)
                    row["reviewed_by_id"] = reviewer
                    row["review_note"] = _seal(
                        "screening_screening",
                        "review_note",
                        row_uid,
                        rng.choice(fiction.REVIEW_NOTES),
                    )
                    row["updated_at"] = row["reviewed_at"]
                    row["version"] = 4
            if status == "voided":
                row["voided_at"] = at(3.5 + offset)
                row["voided_by_id"] = supervisor
                row["void_reason"] = _seal(
                    "screening_screening",
                    "void_reason",
                    row_uid,
                    "Started with the wrong person." if scored else "Case closed.",
                )
                row["updated_at"] = row["voided_at"]
            out[Screening].append(row)
            if scored and status != "voided":
                flags |= scored.flags
                last_scored = (screening_id, scored, submitted_at, at(1.4 + offset))
                if status == "reviewed" and rng.random() < 0.03:
                    self._override(
                        out, screening_id, scored, version_id, supervisor, at(22.5 + offset)
                    )
        if last_scored is not None:
            self._referrals(case, agency, supervisor, screener, last_scored, flags, at, out)
        return flags

    def _override(self, out, screening_id, scored, version_id, supervisor, reviewed_at) -> None:
        bands = [
            band
            for band in self.book.bands(version_id)
            if band not in (scored.outcome, "indeterminate")
        ]
        if not bands:
            return
        row_uid = self._uid()
        out[ScreeningOverride].append(
            {
                "id": self.ids.take(ScreeningOverride),
                "screening_id": screening_id,
                "outcome": self.rng.choice(bands),
                "reason_code": "professional_judgement",
                "row_uid": row_uid,
                "note": _seal(
                    "screening_screeningoverride",
                    "note",
                    row_uid,
                    self.rng.choice(fiction.OVERRIDE_NOTES),
                ),
                "by_id": supervisor,
                "at": reviewed_at,
            }
        )

    def _needs(self, case, scored, flags) -> list[tuple[str, int, bool]]:
        rng = self.rng
        needs: list[tuple[str, int, bool]] = []
        if case["age_band"] == "minor" or flags & {"minor", "child_welfare_referral"}:
            needs.append(("child_welfare", Priority.URGENT, True))
        if flags & {"immediate_danger", "crisis"}:
            needs += [("shelter", Priority.URGENT, False), ("law_enforcement_atu", 1, False)]
        if scored.outcome in _INDICATED:
            needs += rng.sample(
                [(service, priority, False) for service, priority in _CORE_SERVICES],
                rng.randint(1, 2),
            )
        elif scored.outcome in _POSSIBLE and rng.random() < 0.3:
            needs.append(("case_management", Priority.NORMAL, False))
        seen, unique = set(), []
        for need in needs:
            if need[0] not in seen and self.providers_by_service.get(need[0]):
                seen.add(need[0])
                unique.append(need)
        return unique

    def _referrals(self, case, agency, supervisor, screener, last_scored, flags, at, out) -> None:
        rng = self.rng
        screening_id, scored, submitted_at, consent_given = last_scored
        needs = self._needs(case, scored, flags)
        if not needs:
            return
        created = submitted_at
        recent = (self.anchor - created) < dt.timedelta(days=90)
        statuses, cumulative = _RECENT_CUMULATIVE if recent else _OLD_CUMULATIVE
        for service_type, priority, mandatory in needs:
            provider = rng.choice(self.providers_by_service[service_type])
            status = statuses[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
            consent_id = None
            consent_withdrawn = False
            if not mandatory and status not in (S.BLOCKED_NEEDS_CONSENT, S.PROPOSED):
                # Written, time-limited consent to this type of service (VAWA/VOCA rules in
                # screening/services/consents.py), given before the screening was submitted.
                consent_withdrawn = rng.random() < 0.04
                withdrawn_at = None
                if consent_withdrawn and status in _NOT_YET_ACCEPTED:
                    # Withdrawal cancels what the provider has not accepted yet, at once.
                    status = S.CANCELLED
                    withdrawn_at = _step_times(created, 3, self.anchor)[2]
                elif consent_withdrawn:
                    withdrawn_at = at(1350)
                consent_id = self._consent(
                    out,
                    case,
                    scope="referral_service_type",
                    by=screener,
                    given_at=consent_given,
                    valid_until=consent_given + dt.timedelta(days=rng.choice((90, 180, 365))),
                    service_type=service_type,
                    method="written",
                    withdrawn_at=withdrawn_at,
                )
            path = _PATHS.get(status, ())
            declined_by = ""
            if status == S.DECLINED:
                by_provider = consent_id is not None and rng.random() < 0.5
                path = _DECLINED_BY_PROVIDER if by_provider else _DECLINED_BY_SUPERVISOR
                declined_by = "provider" if by_provider else "supervisor"
            self._referral(
                case,
                agency,
                supervisor,
                screening_id,
                provider,
                service_type,
                priority,
                mandatory,
                status,
                path,
                declined_by,
                consent_id,
                consent_withdrawn,
                created,
                out,
            )

    def _referral(
        self,
        case,
        agency,
        supervisor,
        screening_id,
        provider,
        service_type,
        priority,
        mandatory,
        status,
        path,
        declined_by,
        consent_id,
        consent_withdrawn,
        created,
        out,
    ) -> None:
        rng = self.rng
        referral_id = self.ids.take(Referral)
        times = _step_times(created, len(path), self.anchor)
        approved_at = sent_at = escalated_at = None
        if S.APPROVED in path:
            approved_at = times[path.index(S.APPROVED)]
        if S.SENT in path:
            sent_at = times[path.index(S.SENT)]
        if status in (S.PENDING_APPROVAL, S.SENT, S.BLOCKED_NEEDS_CONSENT) and rng.random() < 0.3:
            escalated_at = times[-1]
        fields: tuple[str, ...] = ()
        if sent_at is not None:
            fields = CONSENTED_FIELDS if consent_id else MANDATORY_FIELDS
            if provider.channel == ServiceProvider.Channel.EMAIL:
                fields = tuple(name for name in fields if name in EMAIL_FIELDS)
        due_hours = settings.REFERRAL_APPROVAL_DUE_HOURS[priority]
        row = {
            "id": referral_id,
            "case_id": case["id"],
            "screening_id": screening_id,
            "provider_id": provider.pk,
            "case_agency_id": agency.id,
            "provider_agency_id": provider.agency_id,
            "service_type": service_type,
            "status": status,
            "priority": priority,
            "mandatory": mandatory,
            "routing_rule_set_id": self.rule_set_id,
            "rule_key": "minor_child_welfare" if mandatory else "indicated_core_services",
            "consent_used_id": consent_id,
            "missing_consent": (
                f"written, time-limited consent to a referral for {service_type} "
                f"or to this provider ({provider.slug})"
                if status == S.BLOCKED_NEEDS_CONSENT
                else ""
            ),
            "fields_disclosed": self._json(list(fields)),
            "idempotency_key": f"{self.uid_rng.getrandbits(128):032x}",
            "due_at": (sent_at + HOUR * provider.response_due_hours)
            if sent_at
            else created + HOUR * due_hours,
            "decline_reason": rng.choice(
                _PROVIDER_REASONS if declined_by == "provider" else _SUPERVISOR_REASONS
            )
            if declined_by
            else "",
            "declined_by": declined_by,
            "outcome": _CLOSED_OUTCOMES[referral_id % len(_CLOSED_OUTCOMES)]
            if status == S.CLOSED
            else "",
            "closed_by": "provider" if status == S.CLOSED else "",
            "delivery_attempts": (8 if status == S.FAILED else 1 if sent_at else 0),
            "last_delivery_error": "connection refused" if status == S.FAILED else "",
            "escalated_at": escalated_at,
            "approved_by_id": supervisor if approved_at else None,
            "approved_at": approved_at,
            "sent_at": sent_at,
            "created_at": created,
            "updated_at": times[len(path) - 1],
        }
        rank_of = getattr(referral_models, "referral_queue_rank", None)
        queue_field = next(
            (f for f in Referral._meta.concrete_fields if f.name == "queue_rank"), None
        )
        if rank_of is not None and queue_field is not None and not queue_field.generated:
            row["queue_rank"] = rank_of(status, escalated_at)
        out[Referral].append(row)
        events = out[ReferralEvent]
        previous = ""
        for step, to_status in enumerate(path):
            if to_status == S.CANCELLED and consent_withdrawn:
                events.append(
                    self._event(
                        referral_id, "consent", previous, previous, None, None, "", times[step]
                    )
                )
            by = by_provider = None
            reason = ""
            if to_status in (S.APPROVED,) or (
                to_status == S.DECLINED and declined_by == "supervisor"
            ):
                by = supervisor
            if to_status in (S.ACKNOWLEDGED, S.ACCEPTED, S.SERVICES_STARTED, S.CLOSED) or (
                to_status == S.DECLINED and declined_by == "provider"
            ):
                by_provider = provider.pk
            if to_status == S.DECLINED:
                reason = row["decline_reason"]
            elif to_status == S.CLOSED:
                reason = row["outcome"]
            events.append(
                self._event(
                    referral_id,
                    "transition",
                    previous,
                    to_status,
                    by,
                    by_provider,
                    reason,
                    times[step],
                )
            )
            if to_status in (S.SENT, S.FAILED):
                events.append(
                    self._event(
                        referral_id,
                        "delivery_attempt",
                        to_status,
                        to_status,
                        None,
                        None,
                        "",
                        times[step],
                    )
                )
            previous = to_status
        if escalated_at is not None:
            events.append(
                self._event(referral_id, "escalated", status, status, None, None, "", escalated_at)
            )

    def _event(self, referral_id, kind, from_status, to_status, by, by_provider, reason, at):
        return {
            "id": self.ids.take(ReferralEvent),
            "referral_id": referral_id,
            "kind": kind,
            "from_status": from_status,
            "to_status": to_status,
            "by_id": by,
            "by_provider_id": by_provider,
            "reason_code": reason,
            "row_uid": self._uid(),
            "note": "",
            "at": at,
        }

    def _share(self, case, agency, supervisor, at, out) -> None:
        rng = self.rng
        if len(self.agencies) < 2:
            return
        target = rng.choice(self.agencies)
        if target.id == agency.id:
            return
        shared_at = at(50)
        consent_given = at(49)
        if target.kind == Agency.Kind.LAW_ENFORCEMENT and not case["mandatory_report_required"]:
            # Sharing with law enforcement needs the person's consent (case_share).
            self._consent(
                out,
                case,
                scope="law_enforcement_sharing",
                by=supervisor,
                given_at=consent_given,
                valid_until=shared_at + dt.timedelta(days=365),
                method="written",
            )
        row_uid = self._uid()
        out[CaseShare].append(
            {
                "id": self.ids.take(CaseShare),
                "case_id": case["id"],
                "case_created_at": case["created_at"],
                "shared_with_agency_id": target.id,
                "row_uid": row_uid,
                "reason": _seal(
                    "screening_caseshare", "reason", row_uid, rng.choice(fiction.SHARE_REASONS)
                ),
                "shared_by_id": supervisor,
                "shared_at": shared_at,
            }
        )

    def _access_log(self, case, agency, workers, supervisor, creator_roles, at, out) -> None:
        rng = self.rng
        rows = out[AccessLogEntry]
        reference, case_id = case["reference"], case["id"]
        creator = workers[0]

        def entry(when, user, method, route, status, outcome="allowed", agency_id=None):
            rows.append(
                {
                    "id": self.ids.take(AccessLogEntry),
                    "at": when,
                    "user_id": user,
                    "agency_id": agency_id or agency.id,
                    "api_token_id": None,
                    "roles": self.user_roles[user],
                    "method": method,
                    "route": route,
                    "object_type": "case",
                    "object_ref": reference,
                    "case_id": case_id,
                    "status_code": status,
                    "outcome": outcome,
                    "client_ip": rng.choice(_CLIENT_IPS),
                }
            )

        entry(case["created_at"], creator, "POST", "screening:case-new", 302)
        for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 3))):
            viewer = rng.choice(workers + [supervisor])
            entry(at(rng.uniform(0, 1400)), viewer, "GET", "screening:case-detail", 200)
        if rng.random() < 0.2:
            entry(at(rng.uniform(0, 1400)), creator, "GET", "api-case-detail", 200)
        if rng.random() < 0.01 and len(self.agencies) > 1:
            stranger_agency = rng.choice(self.agencies)
            if stranger_agency.id != agency.id and stranger_agency.workers:
                entry(
                    at(rng.uniform(0, 1400)),
                    rng.choice(stranger_agency.workers),
                    "GET",
                    "screening:case-detail",
                    404,
                    "not_found",
                    stranger_agency.id,
                )

    # --- contacts ----------------------------------------------------------------------------
    def _contacts(self, chunk_cases, out) -> None:
        """Hotline contacts: some opened a case of their agency (the case's creator logged
        the contact), most stand alone; some carry a triage scored with the real engine."""
        rng = self.rng
        hotlines = [agency for agency in self.agencies if agency.kind == Agency.Kind.HOTLINE]
        if not hotlines:
            return
        linked = []
        for case_id, creator, agency_id, created_at in chunk_cases:
            agency = self.agency_by_id[agency_id]
            if agency.kind == Agency.Kind.HOTLINE and rng.random() < 0.6:
                linked.append((case_id, creator, agency, created_at))
        standalone = int(len(chunk_cases) * 0.25)
        low, high = chunk_cases[0][3], chunk_cases[-1][3]
        # The contact that opened a case was logged by the case's creator (contact_create).
        for case_id, creator, agency, created_at in linked:
            self._contact(out, agency, created_at, case_id, creator)
        for _ in range(standalone):
            agency = rng.choice(hotlines)
            author = rng.choice(agency.workers or agency.supervisors)
            self._contact(out, agency, low + (high - low) * rng.random(), None, author)

    def _contact(self, out, agency, created_at, case_id, author) -> None:
        rng = self.rng
        channel, contact_type, caller_type, exploitation, danger, minor = rng.choice(
            _CONTACT_PROFILES
        )
        contact_id = self.ids.take(Contact)
        row_uid = self._uid()
        table = "screening_contact"
        caller_name = ""
        if caller_type != "anonymous" and rng.random() < 0.4:
            caller_name = " ".join(fiction.person_name(rng))
        caller_phone = rng.choice(self.phones) if rng.random() < 0.5 else ""
        recent = (self.anchor - created_at) < dt.timedelta(days=2)
        finalised = not recent or rng.random() < 0.5
        row = {
            "id": contact_id,
            "agency_id": agency.id,
            "created_by_id": author,
            "status": "finalised" if finalised else "draft",
            "channel": channel,
            "caller_type": caller_type,
            "language": rng.choice(_LANGUAGES),
            "caller_region": agency.region,
            "contact_type": contact_type,
            "immediate_danger": danger,
            "minor_involved": minor,
            "exploitation_type": exploitation,
            "row_uid": row_uid,
            "situation_location": _seal(
                table, "situation_location", row_uid, rng.choice(fiction.CONTACT_LOCATIONS)
            ),
            "summary": _seal(table, "summary", row_uid, rng.choice(fiction.CONTACT_SUMMARIES)),
            "caller_name": _seal(table, "caller_name", row_uid, caller_name),
            "caller_phone": _seal(table, "caller_phone", row_uid, caller_phone),
            "case_id": case_id,
            "version": 2 if finalised else 1,
            "created_at": created_at,
            "updated_at": created_at,
            "finalised_at": created_at + dt.timedelta(minutes=20) if finalised else None,
            "finalised_by_id": author if finalised else None,
        }
        if finalised and row["finalised_at"] > self.anchor:
            row["finalised_at"] = created_at
        if self.triage_version is not None and rng.random() < 0.5:
            derived = {
                "contact_type": contact_type,
                "channel": channel,
                "caller_type": caller_type,
                "exploitation_type": "unknown_type" if exploitation == "unknown" else exploitation,
                "immediate_danger": "yes" if danger else "no",
                "minor_involved": "yes" if minor else "no",
            }
            pattern = rng.randrange(len(self.book.patterns[self.triage_version]))
            answers = self._triage_answers(pattern, derived)
            scored = self.book.scored(
                self.triage_version, pattern, {}, extra=tuple(sorted(derived.items()))
            )
            row["triage_instrument_version_id"] = self.triage_version
            row["triage_answers"] = answers
            row["triage_result"] = scored.result
            row["triage_outcome"] = scored.outcome
        out[Contact].append(row)
        for kind, digest in self._identifier_digests(phone=caller_phone, name=caller_name):
            out[IdentifierDigest].append(
                {
                    "id": self.ids.take(IdentifierDigest),
                    "kind": kind,
                    "digest": digest,
                    "case_id": None,
                    "contact_id": contact_id,
                }
            )

    def _triage_answers(self, pattern: int, derived: dict[str, str]) -> RawJson:
        """What the caller's software sent: the pattern without the answers the contact's own
        fields give (contact_create refuses a different value for those)."""
        found = self._triage_patterns.get(pattern)
        if found is None:
            answers = self.book.patterns[self.triage_version][pattern][0]
            found = raw_json({k: v for k, v in answers.items() if k not in derived})
            self._triage_patterns[pattern] = found
        return found


def _step_times(start: dt.datetime, steps: int, anchor: dt.datetime) -> list[dt.datetime]:
    """When each of a referral's `steps` transitions happened (and two moments after): a few
    hours apart, all before the anchor."""
    step = min(6 * HOUR, (anchor - start) / (steps + 3))
    return [start + step * index for index in range(steps + 2)]


# The generator a forked worker makes chunks with (set by the parent just before forking).
_FORKED: LoadGenerator | None = None


def _forked_chunk_rows(index: int) -> tuple[dict[type, list], int]:
    return _FORKED.chunk_rows(index)


class _NoBar:
    def update(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


def sample_accounts() -> list[str]:
    """Accounts a benchmark can act as: a supervisor of the largest agency and a case worker
    there, with how many cases each may see (fictional usernames, no case data)."""
    from django.db.models import Count

    largest = (
        Case.objects.values("agency_id").annotate(cases=Count("id")).order_by("-cases").first()
    )
    if largest is None:
        return []
    lines = []
    agency = Agency.objects.get(pk=largest["agency_id"])
    for role in (Role.SUPERVISOR, Role.SOCIAL_WORKER, Role.FRONTLINE_OFFICER, Role.HOTLINE_STAFF):
        user = User.objects.filter(agency=agency, groups__name=role).order_by("pk").first()
        if user is None:
            continue
        visible = Case.objects.visible_to(user).count()
        lines.append(f"{role:<18} {user.username:<36} sees {visible:>9,} cases")
        if role != Role.SUPERVISOR:
            break
    return [f"Largest agency: {agency.name} ({largest['cases']:,} cases)", *lines]
