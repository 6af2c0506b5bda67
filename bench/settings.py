"""The benchmark's gunicorn: the product's settings with the reference endpoints' URL conf
added (bench/reference.py). The product never loads this module."""

from loanflow.settings import *  # noqa: F403

ROOT_URLCONF = "bench.reference"
