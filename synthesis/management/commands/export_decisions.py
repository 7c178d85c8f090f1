from synthesis.management.commands._reporting import ExportCommand


class Command(ExportCommand):
    help = "Screening decisions with reviewers, reasons and resolutions."
    table_name = "decisions"
