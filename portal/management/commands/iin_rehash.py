"""Recompute the keyed hashes of every stored ИИН with the current ``IIN_HMAC_KEY``.

    IIN_HMAC_KEY=<new key> python manage.py iin_rehash

Run once (as the owner, or as the application role: it is a named cross-school job) right
after changing the key and before the processes start with it. Prints the number of rows.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from portal.db_scope import cross_school_job
from portal.requests.models import AidRequest
from schools.iinkey import iin_digest


def aid_request_iin_digests_refresh(batch: int = 2000) -> int:
    """Every aid request's ``student_iin_hmac`` / ``guardian_iin_hmac`` under the current key
    (one transaction: either all rows carry the new digests or none)."""
    n = 0
    with transaction.atomic():
        rows: list[AidRequest] = []
        qs = AidRequest.objects.unscoped().only("id", "student_iin", "guardian_iin")
        for row in qs.select_for_update().order_by("id").iterator(batch):
            row.student_iin_hmac = iin_digest(row.student_iin)
            row.guardian_iin_hmac = iin_digest(row.guardian_iin)
            rows.append(row)
            if len(rows) >= batch:
                n += len(rows)
                AidRequest.objects.bulk_update(rows, ["student_iin_hmac", "guardian_iin_hmac"])
                rows = []
        if rows:
            n += len(rows)
            AidRequest.objects.bulk_update(rows, ["student_iin_hmac", "guardian_iin_hmac"])
    return n


class Command(BaseCommand):
    help = "Recompute the keyed hashes of every stored ИИН after IIN_HMAC_KEY changed."

    @cross_school_job("manage.py iin_rehash")
    def handle(self, *args: Any, **options: Any) -> None:
        n = aid_request_iin_digests_refresh()
        self.stdout.write(f"{n}")
