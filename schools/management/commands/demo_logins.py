from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from schools.demo import DEMO_PASSWORD, DEMO_STAFF, demo_current_code, demo_totp_secret


class Command(BaseCommand):
    help = "Print the demo logins, the password and how to get each account's one-time code."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, **opts):
        w = self.stdout.write
        w("")
        w("=" * 78)
        w(_("Портал «Көмек» запущен: %(url)s") % {"url": opts["url"]})
        w(_("Пароль всех демо-учётных записей: %(p)s") % {"p": DEMO_PASSWORD})
        w(_("Одноразовый код (TOTP): в другом терминале выполните"))
        w("    .venv/bin/python manage.py demo_totp <login>")
        w(_("или добавьте секрет в приложение-аутентификатор (Google Authenticator, Aegis…)."))
        w("-" * 78)
        login, role_, code_now, secret = _("логин"), _("роль"), _("код сейчас"), _("секрет TOTP")
        w(f"{login:<20} {role_:<24} {code_now:<11} {secret}")
        for username, _name, role, _unit in [*DEMO_STAFF, ("admin", "", "superuser", None)]:
            code = demo_current_code(username) or "-"
            w(f"{username:<20} {str(role):<24} {code:<11} {demo_totp_secret(username)}")
        w("=" * 78)
        w(_("Остановить: Ctrl-C"))
