from synthesis.management.commands._reporting import ExportCommand
from synthesis.views_reporting import prisma_file


class Command(ExportCommand):
    help = (
        "PRISMA 2020 flow: csv (counts per box), xlsx (counts with per-source and per-reason"
        " rows), svg, png, or prisma2020 (the CSV read by the PRISMA2020 R package / Shiny app)."
    )
    formats = ("csv", "xlsx", "svg", "png", "prisma2020")

    def handle(self, *args, **options):
        review, _ = self.review_and_user(options)
        body, _, _ = prisma_file(review, options["format"])
        self.write_bytes(body, options["output"])
