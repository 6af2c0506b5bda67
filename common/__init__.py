"""Code every app shares and no app owns: the domain errors and how the API answers them,
enqueueing Celery tasks after commit, and PDF rendering."""
