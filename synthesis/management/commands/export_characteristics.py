from synthesis.management.commands._reporting import ExportCommand


class Command(ExportCommand):
    help = "Study characteristics from the current extraction form."
    table_name = "characteristics"
