"""Point the two file stores (common.storage) at folders of a test's own."""

from pathlib import Path

from django.utils.functional import empty

from common.storage import documents_storage


def use_file_stores(settings, root: Path, **locations: Path) -> dict[str, Path]:
    """Both stores under `root` (or at the `locations` given by alias), local folders with
    no URL. Returns {alias: folder}."""
    roots = {alias: locations.get(alias, root / alias) for alias in ("default", "documents")}
    settings.STORAGES = {
        **settings.STORAGES,
        **{
            alias: {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(folder), "base_url": None},
            }
            for alias, folder in roots.items()
        },
    }
    documents_storage._wrapped = empty  # looked up again from the new STORAGES
    return roots
