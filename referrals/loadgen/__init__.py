"""Fictional load data at the scale of a national hotline (issue 12): `manage.py
generate_load_data --cases N`.

What one run writes, all in one transaction, every row as the services would have written
it (the tests in tests/referrals/test_load_data.py check the invariants):
- the seed instruments, the agencies the seed provider directory names, routing rules and the
  directory, through their own loaders (`load_instruments`, `load_referral_seeds`);
- agencies of Zipf-distributed size (plan.py) and their staff, roles as groups, one password
  for all; three provider staff per provider agency of the directory;
- cases over ten years (more in recent ones) with sealed identifying fields (each value sealed
  for its own row, as `EncryptedTextField.pre_save` seals it) and their identifier digests;
  the creator's and each assignee's `view_case` + `change_case` grants (direct-FK rows, as
  `grant_worker` gives them) and assignments; a few shares to other agencies (with the
  person's consent where the law needs it);
- consents of every scope, some withdrawn and many expired; screenings in every status whose
  results are the real engine's (results.py), flags raised on the case as `screening_submit`
  raises them, a few overrides;
- referrals in every status along transitions the state machine allows, with their events,
  the owning and the provider agency, consent or a mandatory report where the check
  constraint needs one;
- hotline contacts (some opening a case, half with a triage scored by the engine) and
  access-log entries (creations, reads, a few refusals).

Not written: change history rows (simple-history), outbox messages (work in flight) and
break-glass grants.

Speed: rows are made in chunks of cases (by forked processes: each chunk has its own seeded
random streams and reserved ids, so the data do not depend on how many make them) and
written with PostgreSQL `COPY` (writers.py); elsewhere (SQLite, the tests) with
`executemany`. How to run it, the defaults and measured times: docs/load-data.md.
"""

from referrals.loadgen.build import Counts, LoadGenerator
from referrals.loadgen.plan import LoadPlan, default_agencies, default_staff

__all__ = ["Counts", "LoadGenerator", "LoadPlan", "default_agencies", "default_staff"]
