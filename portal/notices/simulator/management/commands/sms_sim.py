"""The SMS gateway simulator from the command line.

    python manage.py sms_sim serve --port 8200       # the simulator alone, on 127.0.0.1
    python manage.py sms_sim inbox +77011234567      # the guardian's phone: messages received
    python manage.py sms_sim faults --fail-next 2    # the next 2 messages get 503
    python manage.py sms_sim clear                   # forget every message

Point the portal at a standalone simulator with ``SMS_GATEWAY_URL=http://127.0.0.1:8200``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.notices.simulator import faults
from portal.notices.simulator.models import SimulatedSms

HOST = "127.0.0.1"


class Command(BaseCommand):
    help = "SMS gateway simulator: serve it alone, read a phone's inbox, inject faults."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve")
        serve.add_argument("--port", type=int, default=8200)
        inbox = sub.add_parser("inbox")
        inbox.add_argument("phone", nargs="?", default="")
        f = sub.add_parser("faults")
        f.add_argument("--fail-next", type=int, dest="fail_next", required=True)
        sub.add_parser("clear")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "serve":
            self.serve(options["port"])
        elif action == "inbox":
            qs = SimulatedSms.objects.all()
            if options["phone"]:
                qs = qs.filter(to=options["phone"])
            for m in qs:
                when = timezone.localtime(m.received_at).strftime("%Y-%m-%d %H:%M:%S")
                self.stdout.write(f"{when} {m.to}: {m.text}")
        elif action == "faults":
            if options["fail_next"] < 0:
                raise CommandError(_("--fail-next не может быть отрицательным."))
            faults.fail_next_set(options["fail_next"])
            self.stdout.write(_("Сбои симулятора SMS изменены."))
        elif action == "clear":
            SimulatedSms.objects.all().delete()

    def serve(self, port: int) -> None:
        from django.core.servers.basehttp import run
        from django.core.wsgi import get_wsgi_application

        settings.ROOT_URLCONF = "portal.notices.simulator.standalone_urls"
        settings.MIDDLEWARE = [
            "django.middleware.security.SecurityMiddleware",
            "django.middleware.common.CommonMiddleware",
        ]
        application = get_wsgi_application()

        def announce(bound_port: int) -> None:
            self.stdout.write(f"SMS simulator: http://{HOST}:{bound_port}/v1/health")
            self.stdout.flush()

        try:
            run(HOST, port, application, ipv6=False, threading=True, on_bind=announce)
        except OSError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            pass
