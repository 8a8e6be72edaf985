from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening: agencies, staff, cases"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from screening.mfa import mfa_note_sign_in

        # Django's sign-in view has no other hook: note whether a second step is due.
        user_logged_in.connect(mfa_note_sign_in, dispatch_uid="mfa_note_sign_in")
