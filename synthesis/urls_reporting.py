from django.urls import path

from synthesis import views_reporting as v

urlpatterns = [
    path("reporting/", v.reporting_index, name="reporting"),
    path("reporting/downloads/", v.export_jobs_part, name="reporting-jobs"),
    path("reporting/downloads/new/<str:what>", v.export_job_create, name="reporting-job-create"),
    path("reporting/downloads/<int:job_id>/", v.export_job_download, name="reporting-job-download"),
    path(
        "reporting/export/<slug:name>.<str:fmt>",
        v.export_download,
        name="reporting-export",
    ),
    path("reporting/included.<str:fmt>", v.export_bibliography, name="reporting-bibliography"),
    path("reporting/prisma/", v.prisma_page, name="reporting-prisma"),
    path("reporting/prisma.<str:fmt>", v.prisma_download, name="reporting-prisma-download"),
    path("reporting/rameses/", v.rameses_page, name="reporting-rameses"),
    path("reporting/rameses/<slug:checklist>/", v.rameses_page, name="reporting-rameses-list"),
    path(
        "reporting/rameses/<slug:checklist>.csv", v.rameses_download, name="reporting-rameses-csv"
    ),
    path("reporting/api/", v.api_access, name="reporting-api"),
    path("reporting/backup/", v.backup_page, name="reporting-backup"),
    path("reporting/backup/restore/", v.backup_restore, name="reporting-backup-restore"),
]
