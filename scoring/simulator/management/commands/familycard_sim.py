"""Run the family card simulator alone, and change its injected faults at run time.

    python manage.py familycard_sim serve --port 8100
    python manage.py familycard_sim faults --latency-ms 100 --error-rate 0.5 --timeout-rate 0
    python manage.py familycard_sim faults --malformed-rate 1
    python manage.py familycard_sim faults --show
    python manage.py familycard_sim faults --reset

``serve`` binds 127.0.0.1 only and serves just the simulator (``standalone_urls``) at the root:
point the portal at it with ``FAMILY_CARD_URL=http://127.0.0.1:8100``. Faults set here are
stored in Redis and apply at once to every process serving the simulator (this one, or the
portal's /familycard-sim/).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from scoring.simulator import faults as faults_mod

STANDALONE_URLCONF = "scoring.simulator.standalone_urls"
STANDALONE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
HOST = "127.0.0.1"


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(value)
    return rate


class Command(BaseCommand):
    help = "Family card simulator: `serve` it alone, or set/show/reset its `faults`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="serve only the simulator on 127.0.0.1")
        serve.add_argument("--port", type=int, default=8100)
        faults = sub.add_parser("faults", help="set, show or reset the injected faults")
        faults.add_argument("--latency-ms", type=int, dest="latency_ms")
        faults.add_argument("--error-rate", type=_rate, dest="error_rate")
        faults.add_argument("--timeout-rate", type=_rate, dest="timeout_rate")
        faults.add_argument("--malformed-rate", type=_rate, dest="malformed_rate")
        faults.add_argument("--trickle-ms", type=int, dest="trickle_ms")
        faults.add_argument("--reset", action="store_true", help="back to settings/environment")
        faults.add_argument("--show", action="store_true", help="print the faults in force")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "serve":
            self.serve(options["port"])
        else:
            self.faults(options)

    # -- faults ----------------------------------------------------------------------------

    def faults(self, options: dict[str, Any]) -> None:
        changes = {
            name: options[name] for name in faults_mod.FIELDS if options.get(name) is not None
        }
        if options["reset"] and changes:
            raise CommandError(_("--reset нельзя сочетать с новыми значениями."))
        if options["reset"]:
            faults_mod.faults_reset()
            self.stdout.write(_("Сбои симулятора сброшены к настройкам."))
        elif changes:
            if changes.get("latency_ms", 0) < 0:
                raise CommandError(_("--latency-ms не может быть отрицательным."))
            if changes.get("trickle_ms", 0) < 0:
                raise CommandError(_("--trickle-ms не может быть отрицательным."))
            faults_mod.faults_set(**changes)
            self.stdout.write(_("Сбои симулятора изменены."))
        elif not options["show"]:
            raise CommandError(_("Укажите новые значения, --reset или --show."))
        current, source = faults_mod.current_faults()
        payload = {
            **current.as_dict(),
            "source": source,
            "timeout_sleep_s": float(settings.FAMILY_CARD_SIM_TIMEOUT_SLEEP),
            "card_requests_seen": faults_mod.requests_seen(),
        }
        self.stdout.write(json.dumps(payload, ensure_ascii=False, sort_keys=True))

    # -- serve -----------------------------------------------------------------------------

    def serve(self, port: int) -> None:
        from django.core.servers.basehttp import run
        from django.core.wsgi import get_wsgi_application

        # This process serves only the simulator: its own URLconf, no portal middleware.
        settings.ROOT_URLCONF = STANDALONE_URLCONF
        settings.MIDDLEWARE = STANDALONE_MIDDLEWARE
        application = get_wsgi_application()

        def announce(bound_port: int) -> None:
            self.stdout.write(
                _("Симулятор сервиса карт семьи: http://%(host)s:%(port)d/v1/health")
                % {"host": HOST, "port": bound_port}
            )
            self.stdout.flush()

        from portal.devserver import ClosingWSGIServer

        try:
            run(
                HOST,
                port,
                application,
                ipv6=False,
                threading=True,
                on_bind=announce,
                server_cls=ClosingWSGIServer,  # each thread closes its DB connection
            )
        except OSError as exc:
            raise CommandError(
                _("Не удалось открыть порт %(port)d: %(error)s") % {"port": port, "error": exc}
            ) from None
        except KeyboardInterrupt:
            pass
