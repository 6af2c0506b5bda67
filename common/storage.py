"""Where LoanFlow keeps files: the two stores of settings.STORAGES.

- "default": the bank's own files (credit memos, site-visit photos, post-loan attachments);
- "documents": the applicants' uploads.

Both are on the local disk by default and in an S3-compatible object store with
LOANFLOW_STORAGE=s3 (settings). Every file is read and written through Django's storage API,
never by path, so any store works and several web processes share one. Nothing is served
from a store's URL: each file goes out through a view that checks the user's scope.
"""

from django.core.files.storage import storages
from django.utils.functional import LazyObject


class DocumentsStorage(LazyObject):
    """settings.STORAGES["documents"], looked up when first used."""

    def _setup(self):
        self._wrapped = storages["documents"]


documents_storage = DocumentsStorage()


def documents_store():
    """The applicants' documents' store, for a FileField's `storage` (a callable, so that a
    migration names it rather than its configuration)."""
    return documents_storage
