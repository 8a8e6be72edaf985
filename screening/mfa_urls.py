"""The second sign-in step's pages, under /accounts/mfa/ beside Django's sign-in pages (not
in the `screening` namespace: they show no case data). `verify` and `setup` are reachable
before the step is taken (screening/mfa.py); the others are not."""

from django.urls import path

from screening.views import mfa

app_name = "mfa"

urlpatterns = [
    path("", mfa.mfa_overview, name="overview"),
    path("verify/", mfa.mfa_verify_page, name="verify"),
    path("setup/", mfa.mfa_setup, name="setup"),
    path("backup-codes/", mfa.mfa_backup_codes, name="backup-codes"),
]
