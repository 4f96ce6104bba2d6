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


def test_the_sms_gateway_client_builds_no_tls_context_per_message():
    """Each message built a new TLS context (~20 ms of CPU loading the CA bundle)."""
    import ssl
    from unittest import mock

    from portal.notices.gateway import SmsGateway
    from scoring.sources import shared_ssl_context

    shared_ssl_context()
    with mock.patch.object(ssl, "create_default_context", wraps=ssl.create_default_context) as m:
        for _ in range(3):
            SmsGateway(base_url="http://127.0.0.1:9").close()
    assert m.call_count == 0
