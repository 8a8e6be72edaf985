# Two commands a newcomer needs: `make run` and `make test`. Everything else is for operators.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed

.PHONY: run test install lint migrate seed worker beat serve-production bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the lock file changes; --require-hashes installs exactly what CI tested.
$(STAMP): $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	touch $(STAMP)

install: $(STAMP)

## make run: the embedded default with fictional demo data (docs/embedded-demo.md): SQLite,
## mail to var/mail/, and four processes stopped together by Ctrl-C: the web server on
## 127.0.0.1:$(PORT), a Celery worker and beat on a filesystem broker in var/broker/, and the
## demo's signed webhook receiver on 127.0.0.1:8765. seed_demo also loads the referral seeds.
PORT ?= 8000
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_instruments
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_demo --port $(PORT)

## make test: the whole suite. Uses DATABASE_URL / CELERY_BROKER_URL when set (CI sets both).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Production-like processes (settings from the environment, see README).
worker: install
	$(BIN)/celery -A config.celery:app worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-2}

beat: install
	mkdir -p var
	$(BIN)/celery -A config.celery:app beat --loglevel=INFO --schedule=var/celerybeat-schedule

serve-production: install
	DJANGO_SETTINGS_MODULE=config.settings.production $(BIN)/gunicorn config.wsgi \
		--bind $${BIND:-127.0.0.1:8000} --workers $${WEB_CONCURRENCY:-3}

## make bench: every benchmark (scoring, contacts, encryption, delivery, lists at 10k/100k/1M
## cases) on the local PostgreSQL and Redis, which must be running; results and charts go into
## docs/benchmarks.md and docs/benchmarks/. QUICK=1: the 10k database, fewer rounds (< 5 min).
## COMMITTED=1: measure the last commit (an export of HEAD), not the working tree's edits.
bench: install
	$(BIN)/python bench/run_all.py $(if $(QUICK),--quick) $(if $(COMMITTED),--committed)

## Regenerate the hashed lock files after editing pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.lock
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements/base.lock

clean:
	rm -rf $(VENV) db.sqlite3 test.sqlite3 var
