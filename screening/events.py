"""What the screening app tells the layers above it (DESIGN "Layers point down"): outbox
events written in the same transaction as the change (config/outbox.py), each naming its
subject by id. Referral routing and withdrawal subscribe to them (referrals/apps.py);
screening itself imports nothing from referrals/."""

# A screening was submitted with its result (subject: the screening).
SCREENING_SUBMITTED = "screening.submitted"
# A supervisor overrode a submitted screening's outcome: the outcome in force changed
# (subject: the screening).
SCREENING_OVERRIDDEN = "screening.overridden"
# A consent was recorded (subject: the consent).
CONSENT_RECORDED = "consent.recorded"
# A consent was withdrawn; it covers nothing from now on (subject: the consent).
CONSENT_WITHDRAWN = "consent.withdrawn"
# A case moved to another agency: its owning agency changed (subject: the case).
CASE_TRANSFERRED = "case.transferred"
