from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from schools.demo import demo_current_code


class Command(BaseCommand):
    help = "Print the current one-time code (TOTP) of a demo account."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        code = demo_current_code(opts["username"])
        if code is None:
            raise CommandError(
                _("«%(u)s» не является демо-учётной записью.") % {"u": opts["username"]}
            )
        self.stdout.write(code)
