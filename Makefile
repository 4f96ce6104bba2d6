# Komek: two commands. `make demo` runs the portal with demo data; `make test` runs the suite.
# Both create .venv and install what they need. With no DATABASE_URL / CELERY_BROKER_URL they
# start an embedded PostgreSQL and Redis under var/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: demo test install browser pdf lint

demo: $(STAMP) pdf browser
	$(PY) -m portal.launcher demo

test: $(STAMP) browser pdf
	$(PY) -m portal.launcher test $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# Browser tests drive Debian's chromium through Playwright; never a downloaded browser.
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  { if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	    elif command -v sudo >/dev/null 2>&1; then \
	      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	    else echo "chromium is missing and apt is not available: browser tests will fail"; fi; }

# Decision letters are rendered by WeasyPrint: it needs Debian's pango and the DejaVu fonts
# (they cover Kazakh: ә ғ қ ң ө ұ ү һ і).
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
pdf:
	@missing=""; for p in $(PDF_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  [ -z "$$missing" ] || { if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    elif command -v sudo >/dev/null 2>&1; then \
	      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    else echo "missing$$missing and apt is not available: decision letters will fail"; fi; }

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
