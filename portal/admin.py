"""Admin registrations of the ``portal`` app live in its feature packages."""

from portal.audit import admin as audit_admin  # noqa: F401
from portal.requests import admin as requests_admin  # noqa: F401
