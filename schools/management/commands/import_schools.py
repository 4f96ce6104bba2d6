from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from schools.services import geography_ensure, schools_import_file


class Command(BaseCommand):
    help = (
        "Import schools from CSV or XLSX (columns: bin,name_ru,name_kk,district,number,kind,language,"
        "student_count,connected). A file with any bad row imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Не удалось прочитать файл %(f)s: %(e)s") % {"f": path, "e": exc}
            ) from exc
        geography_ensure()
        result = schools_import_file(data, path.name)
        if not result.ok:
            for err in result.errors:
                self.stderr.write(str(err))
            raise CommandError(
                _("Файл содержит ошибки (%(n)s); ничего не импортировано.")
                % {"n": len(result.errors)}
            )
        self.stdout.write(
            _("Импортировано: создано %(c)s, обновлено %(u)s.")
            % {"c": result.created, "u": result.updated}
        )
