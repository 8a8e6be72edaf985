from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Project-wide pieces that belong to no domain app: system checks, the access log."""

    name = "config"
    label = "core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.test.signals import setting_changed
        from django.utils.module_loading import autodiscover_modules

        from config import checks  # noqa: F401 - registers the checks
        from config.access_log import access_log_note_login_failed
        from config.crypto import reset_keyring
        from config.log_redaction import install_log_redaction
        from config.sessions import session_signed_in_at_record

        # Exception messages may quote case data: no log record carries them.
        install_log_redaction()

        # Django's own hook for failed sign-ins (its login view re-renders with 200, so the
        # middleware cannot tell from the status): the access log records them.
        user_login_failed.connect(access_log_note_login_failed, dispatch_uid="access_log_login")
        # The session's sign-in time, for its absolute lifetime (config/sessions.py).
        user_logged_in.connect(session_signed_in_at_record, dispatch_uid="session_signed_in_at")
        # Each app's `labels.py` says in words what its stored codes mean (config/labels.py).
        autodiscover_modules("labels")
        # Tests that override the keyring get fresh keys.
        setting_changed.connect(reset_keyring, dispatch_uid="crypto_reset_keyring")
