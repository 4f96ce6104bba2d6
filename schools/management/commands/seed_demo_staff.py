from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from schools.demo import demo_staff_ensure


class Command(BaseCommand):
    help = "Create the demo accounts (one per role) with MFA enrolled. Idempotent."

    def handle(self, *args, **opts):
        members = demo_staff_ensure()
        self.stdout.write(_("Демо-учётные записи готовы: %(n)s.") % {"n": len(members) + 1})
