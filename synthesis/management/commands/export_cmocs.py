from synthesis.management.commands._reporting import ExportCommand


class Command(ExportCommand):
    help = "The CMOC table (one row per CMOC), as on the Reporting page."
    table_name = "cmocs"
