# Two commands set everything up on a fresh machine: `make report` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup report test bench clean system-deps a11y-tools

setup: $(STAMP)

# The stamp is rebuilt whenever the pins or the project metadata change.
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/abs-report render params/grenoble.yml

test: $(STAMP) a11y-tools
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Optional Debian packages: Chromium (catalogue page test) and poppler-utils (pdftoppm, to look
# at report pages). Needs root; tests that use them skip with a reason when they are absent.
system-deps:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

# axe-core and puppeteer-core (pinned by tests/a11y/package-lock.json) drive Debian's Chromium
# for the accessibility tests. Without npm the tests that need them skip with a reason.
A11Y       := tests/a11y
A11Y_STAMP := $(A11Y)/node_modules/.installed

a11y-tools: $(A11Y_STAMP)

$(A11Y_STAMP): $(A11Y)/package.json $(A11Y)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(A11Y) && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: the axe-core accessibility tests will be skipped"; fi

clean:
	rm -rf outputs data/cache
