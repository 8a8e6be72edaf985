import os

import pytest

pytestmark = pytest.mark.integration


def test_a_task_sent_to_redis_is_run_by_a_separate_worker_process(real_celery):
    result = real_celery.send_task("system.ping")
    answer = result.get(timeout=30)
    assert answer["pong"] is True
    assert answer["pid"] != os.getpid()
