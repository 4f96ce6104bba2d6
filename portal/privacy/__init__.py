"""Privacy by design: the register of processing, retention (erasure after a configurable time,
auditors' holds) and — later — a person's own record."""
