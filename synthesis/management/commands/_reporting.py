"""Shared plumbing for the export commands: --review, --output (stdout by default),
--format, optional --user (export as that member, with their permissions and blinding)."""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from synthesis import exports
from synthesis.models import Review
from synthesis.permissions import Action, check


class ExportCommand(BaseCommand):
    formats = ("csv", "xlsx")
    table_name = ""

    def add_arguments(self, parser):
        parser.add_argument("--review", type=int, required=True, help="Review id")
        parser.add_argument("--output", "-o", default="-", help="File to write (default stdout)")
        parser.add_argument("--format", choices=self.formats, default=self.formats[0])
        parser.add_argument("--user", help="Export as this member (their role and blinding apply).")

    def review_and_user(self, options):
        try:
            review = Review.objects.get(pk=options["review"])
        except Review.DoesNotExist as exc:
            raise CommandError(f"No review with id {options['review']}.") from exc
        user = None
        if options.get("user"):
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"No user {options['user']}.") from exc
            try:
                check(user, review, Action.EXPORT)
            except Exception as exc:
                raise CommandError(f"{user} may not export review {review.pk}: {exc}") from exc
        return review, user

    def write_bytes(self, data: bytes, output: str) -> None:
        if output == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            with open(output, "wb") as fh:
                fh.write(data)

    def write_table(self, table: exports.Table, fmt: str, output: str) -> None:
        if fmt == "xlsx":
            if output == "-":
                with exports.xlsx_tempfile([table]) as tmp:
                    self.write_bytes(tmp.read(), output)
            else:
                exports.xlsx_write([table], output)
            return
        if output == "-":
            for line in exports.csv_lines(table):
                sys.stdout.write(line)
            sys.stdout.flush()
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                for line in exports.csv_lines(table):
                    fh.write(line)

    def handle(self, *args, **options):
        review, user = self.review_and_user(options)
        table = exports.TABLES[self.table_name](review, user)
        self.write_table(table, options["format"], options["output"])
