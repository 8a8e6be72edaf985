from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening: agencies, staff, cases"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.utils.module_loading import autodiscover_modules

        from screening.mfa import mfa_note_sign_in

        # Django's sign-in view has no other hook: note whether a second step is due.
        user_logged_in.connect(mfa_note_sign_in, dispatch_uid="mfa_note_sign_in")
        # Each app's `timeline.py` adds its entries to the case timeline (screening/timeline.py)
        # without screening importing it.
        autodiscover_modules("timeline")
