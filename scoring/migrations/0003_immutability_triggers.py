"""PostgreSQL guards behind the models' own checks (they also catch QuerySet.update() and SQL).

* scoring_ruleset: once published or retired, ``document``, ``document_sha256``, ``version``
  and ``effective_from`` never change, the status never goes back (published → retired is the
  only move), and the row is never deleted.
* scoring_assessment: insert-only; UPDATE and DELETE are refused.

Errors use SQLSTATE 23001 (restrict_violation), which Django raises as ``IntegrityError``.
TRUNCATE (test database flushes) does not fire row triggers.
"""

from django.db import migrations

RULESET_GUARD = r"""
CREATE OR REPLACE FUNCTION scoring_ruleset_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('published', 'retired') THEN
            RAISE EXCEPTION 'rule set % is %: it cannot be deleted', OLD.version, OLD.status
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IN ('published', 'retired') THEN
        IF NEW.document IS DISTINCT FROM OLD.document
           OR NEW.document_sha256 IS DISTINCT FROM OLD.document_sha256
           OR NEW.version IS DISTINCT FROM OLD.version
           OR NEW.effective_from IS DISTINCT FROM OLD.effective_from THEN
            RAISE EXCEPTION 'rule set % is %: its document is immutable', OLD.version, OLD.status
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.status IS DISTINCT FROM OLD.status
           AND NOT (OLD.status = 'published' AND NEW.status = 'retired') THEN
            RAISE EXCEPTION 'rule set %: status % cannot become %',
                OLD.version, OLD.status, NEW.status
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER scoring_ruleset_guard
    BEFORE UPDATE OR DELETE ON scoring_ruleset
    FOR EACH ROW EXECUTE FUNCTION scoring_ruleset_guard();
"""

RULESET_GUARD_REVERSE = r"""
DROP TRIGGER IF EXISTS scoring_ruleset_guard ON scoring_ruleset;
DROP FUNCTION IF EXISTS scoring_ruleset_guard();
"""

ASSESSMENT_GUARD = r"""
CREATE OR REPLACE FUNCTION scoring_assessment_insert_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'assessments are insert-only (% refused); re-scoring creates a new row', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER scoring_assessment_insert_only
    BEFORE UPDATE OR DELETE ON scoring_assessment
    FOR EACH ROW EXECUTE FUNCTION scoring_assessment_insert_only();
"""

ASSESSMENT_GUARD_REVERSE = r"""
DROP TRIGGER IF EXISTS scoring_assessment_insert_only ON scoring_assessment;
DROP FUNCTION IF EXISTS scoring_assessment_insert_only();
"""


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_default_ruleset")]

    operations = [
        migrations.RunSQL(RULESET_GUARD, RULESET_GUARD_REVERSE),
        migrations.RunSQL(ASSESSMENT_GUARD, ASSESSMENT_GUARD_REVERSE),
    ]
