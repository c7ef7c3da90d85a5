# The two set-up-and-run commands of the README: `make demo` and `make test`.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install browser demo test

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,space]"
	touch $@

# Debian's Chromium and ChromeDriver for the Space's browser test; needs root, the test is skipped without them.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "Chromium not installed (needs root): the browser test will be skipped."

demo: install
	$(BIN)/moodreader demo --output-dir outputs/demo

test: install browser
	$(BIN)/python -m pytest -q
