#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if not (os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL")):
        # Run on its own: the running demo's services, or embedded ones for this command.
        from portal.launcher import ensure_service_env

        ensure_service_env()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
