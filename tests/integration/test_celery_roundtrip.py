import os

import pytest

pytestmark = pytest.mark.integration


def test_a_task_sent_to_redis_is_run_by_a_separate_worker_process(real_celery):
    result = real_celery.send_task("system.ping")
    answer = result.get(timeout=30)
    assert answer["pong"] is True
    assert answer["pid"] != os.getpid()


def test_the_worker_process_keeps_the_loaded_application_out_of_full_collections(real_celery):
    """The pool process froze what it loaded (config/celery.py, worker_process_init), as the
    web entry points do: the suite's worker is a real prefork worker, so this is the
    process production runs tasks in. Without the freeze the count is 0."""
    answer = real_celery.send_task("system.ping").get(timeout=30)
    assert answer["frozen"] > 50_000
