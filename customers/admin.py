from django.contrib import admin

from customers.models import ApplicantProfile, Company


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "industry_code", "home_branch", "registration_date"]
    list_filter = ["industry_code", "home_branch"]
    search_fields = ["name", "credit_code", "legal_representative"]


@admin.register(ApplicantProfile)
class ApplicantProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "company"]
    search_fields = ["user__username", "company__name"]
    list_select_related = ["user", "company"]
