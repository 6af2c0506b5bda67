# The README's commands. `make run` starts the product on its embedded defaults; `make test`
# runs the whole suite against PostgreSQL and Redis (what CI runs through .ci/run).
.PHONY: run test bench lint messages backup restore

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh $(ARGS)

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python manage.py makemigrations --check --dry-run

messages:
	.venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=staticfiles --ignore=tests --ignore=bench

backup:
	.venv/bin/python manage.py backup $(if $(TO),--to $(TO),)

restore:
	.venv/bin/python manage.py restore $(FROM)
