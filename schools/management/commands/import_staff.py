from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from schools.services import staff_import_file


class Command(BaseCommand):
    help = (
        "Create staff accounts from CSV or XLSX (username,full_name,email,role,unit; unit is a school BIN, "
        "district code or region code) and e-mail invitations. A file with any bad row creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--no-invite", action="store_true", help="do not send invitation e-mails"
        )

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Не удалось прочитать файл %(f)s: %(e)s") % {"f": path, "e": exc}
            ) from exc
        result = staff_import_file(data, path.name, send_invitations=not opts["no_invite"])
        if not result.ok:
            for err in result.errors:
                self.stderr.write(str(err))
            raise CommandError(
                _("Файл содержит ошибки (%(n)s); ничего не создано.") % {"n": len(result.errors)}
            )
        self.stdout.write(_("Создано учётных записей: %(c)s.") % {"c": result.created})
