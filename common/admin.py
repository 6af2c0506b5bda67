"""What the admin shows of records written only by the services, the transitions and the
nightly jobs (audit rows, decisions, signed documents, snapshots): view only, never added,
changed nor deleted there."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
