from config.checks import celery_time_limits


def test_time_limit_close_to_the_visibility_timeout_is_an_error(settings):
    settings.CELERY_BROKER_VISIBILITY_TIMEOUT = 600
    settings.CELERY_TASK_TIME_LIMIT = 400
    errors = celery_time_limits(None)
    assert [error.id for error in errors] == ["config.E001"]


def test_default_limits_leave_a_wide_margin(settings):
    assert settings.CELERY_TASK_TIME_LIMIT * 2 <= settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    assert celery_time_limits(None) == []
