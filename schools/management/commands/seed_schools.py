from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from schools.models import School
from schools.services import pilot_network_seed


class Command(BaseCommand):
    help = "Create the pilot network reproducibly: 317 connected schools (202 KAR, 115 SHY)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2025)

    def handle(self, *args, **opts):
        counts = pilot_network_seed(seed=opts["seed"])
        total = School.objects.filter(connected=True).count()
        self.stdout.write(
            _(
                "Школы пилота: Карагандинская область %(kar)s, Шымкент %(shy)s; всего подключено: %(total)s"
            )
            % {"kar": counts.get("KAR", 0), "shy": counts.get("SHY", 0), "total": total}
        )
