from django.conf import settings


def test_it_schedules_the_outbox_relay_and_keeps_the_timing_invariants():
    entry = settings.CELERY_BEAT_SCHEDULE["notices-requeue-pending"]
    assert entry["task"] == "notices.notices_requeue_pending"
    # One gateway call fits in a task; retries back off less than the relay's threshold.
    assert settings.SMS_GATEWAY_TIMEOUT < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.NOTICE_STUCK_THRESHOLD.total_seconds() > settings.SCORING_RETRY_BACKOFF_MAX
    assert (
        settings.NOTICE_STUCK_THRESHOLD.total_seconds()
        < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )


def test_it_registers_the_notice_tasks():
    from portal.celery import app

    app.loader.import_default_modules()
    assert {"notices.notice_deliver", "notices.notices_requeue_pending"} <= set(app.tasks)
