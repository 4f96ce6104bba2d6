# Row-level security on the school-owned aid-request tables (issue 9, item 6); see
# portal/db_scope.py. The owner (migrations) is not subject to it; the application role is.

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION komek_school_visible(sid bigint) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('komek.all_schools', true), '') = 'on'
        OR sid = ANY (
            string_to_array(nullif(current_setting('komek.school_ids', true), ''), ',')::bigint[]
        )
$$;
"""

TABLES = {
    "portal_aidrequest": "komek_school_visible(school_id)",
    "portal_aidrequestscoring": "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)",
    "portal_decision": "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)",
}

FORWARD = [FUNCTION] + [
    f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\n"
    f"CREATE POLICY komek_school_scope ON {t} USING ({cond}) WITH CHECK ({cond});"
    for t, cond in TABLES.items()
]
BACKWARD = [
    f"DROP POLICY IF EXISTS komek_school_scope ON {t};\nALTER TABLE {t} DISABLE ROW LEVEL SECURITY;"
    for t in TABLES
] + ["DROP FUNCTION IF EXISTS komek_school_visible(bigint);"]


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_aidrequest_iin_hmac")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
