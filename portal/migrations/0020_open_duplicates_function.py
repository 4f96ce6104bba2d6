# One child, one grant (portal/budgets/duplicates.py): other schools' open or approved requests
# for the same child, kind and year, looked up by a SECURITY DEFINER function. It runs as its
# owner (the migrating role, not subject to row-level security) and returns only each
# request's id and its school's names: the lookup no longer switches the application's
# connection to all schools and back around one query (two statements on every submission
# and every detail view, issue 12).

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION komek_open_duplicates(
    p_hmac text, p_kind text, p_year text, p_school bigint,
    p_withdrawn text, p_decided text, p_reject text
) RETURNS TABLE (public_id uuid, name_ru text, name_kk text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT r.public_id, s.name_ru::text, s.name_kk::text
      FROM portal_aidrequest r JOIN schools_school s ON s.id = r.school_id
     WHERE r.student_iin_hmac = p_hmac AND r.aid_kind = p_kind AND r.academic_year = p_year
       AND r.school_id <> p_school AND r.status <> p_withdrawn
       AND NOT (r.status = p_decided AND EXISTS (
            SELECT 1 FROM portal_decision d WHERE d.request_id = r.id AND d.outcome = p_reject))
     ORDER BY r.created_at, r.id
$$;
"""

BACKWARD = (
    "DROP FUNCTION IF EXISTS komek_open_duplicates(text, text, text, bigint, text, text, text);"
)


class Migration(migrations.Migration):
    dependencies = [("portal", "0019_auditevent_detail_bulk_json")]

    operations = [migrations.RunSQL(FUNCTION, BACKWARD)]
