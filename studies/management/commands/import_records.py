"""Import bibliographic exports from the command line (scripted use).

    manage.py import_records --review 1 [--search 3] [--format auto] [--user alice] FILE...

One JSON line per file: file, format, parsed, created, duplicates, warnings, error.
"created" counts new unique records (after automatic merging), "duplicates" the records merged
automatically, "candidates" the pairs left for the duplicates page. Exits 1 when any file was
rejected; rejected files write nothing.
"""

import json
import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studies.importers import FORMATS, ImportFormatError
from studies.models import Search
from studies.services.identification import import_batch_create, import_run, search_create
from synthesis.models import Membership, Review, Role


class Command(BaseCommand):
    help = "Import RIS / MEDLINE / BibTeX / EndNote XML / WoS / CSV files into a review."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--review", type=int, required=True)
        parser.add_argument("--search", type=int)
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument("--user", help="Username acting (default: the review's first owner)")

    def handle(self, *args, files, review, search, format, user, **options):
        try:
            review_obj = Review.objects.get(pk=review)
        except Review.DoesNotExist as exc:
            raise CommandError(f"No review {review}.") from exc
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user {user!r}.")
        else:
            m = (
                Membership.objects.filter(review=review_obj, role=Role.OWNER)
                .select_related("user")
                .order_by("id")
                .first()
            )
            if m is None:
                raise CommandError("The review has no owner; pass --user.")
            actor = m.user
        search_obj = None
        if search:
            search_obj = Search.objects.filter(review=review_obj, pk=search).first()
            if search_obj is None:
                raise CommandError(f"No search {search} in review {review}.")
        failed = False
        for path in files:
            line = {"file": path, "format": format, "parsed": 0, "created": 0,
                    "duplicates": 0, "candidates": 0, "warnings": [], "error": ""}  # fmt: skip
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as exc:
                line["error"] = f"{path}: cannot read ({exc.strerror})"
                failed = True
                self.stdout.write(json.dumps(line, ensure_ascii=False))
                continue
            target = search_obj or search_create(
                user=actor, review=review_obj, source=os.path.splitext(os.path.basename(path))[0]
            )
            batch = import_batch_create(
                user=actor, review=review_obj, search=target, data=data,
                filename=os.path.basename(path), format=format,
            )  # fmt: skip
            try:
                batch = import_run(user=actor, batch=batch, data=data)
            except ImportFormatError as exc:
                failed = True
                line["error"] = exc.message  # the search stays logged: it was run
            else:
                line.update(
                    format=batch.format, parsed=batch.parsed_count, created=batch.created_count,
                    duplicates=batch.duplicate_count, candidates=batch.candidate_count,
                    warnings=batch.warnings,
                )  # fmt: skip
            self.stdout.write(json.dumps(line, ensure_ascii=False))
        if failed:
            raise SystemExit(1)
