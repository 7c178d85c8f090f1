from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from synthesis import backup


class Command(BaseCommand):
    help = "Restore a review archive as a new review (new ids, users matched by username)."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="Archive written by export_review")
        parser.add_argument("--owner", help="Username to make an owner of the restored review.")

    def handle(self, *args, **options):
        owner = None
        if options.get("owner"):
            try:
                owner = get_user_model().objects.get(username=options["owner"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"No user {options['owner']}.") from exc
        try:
            with open(options["archive"], "rb") as fh:
                review = backup.review_import(archive=fh, user=owner, owner=owner)
        except (OSError, backup.BackupError) as exc:
            raise CommandError(f"Nothing was restored: {exc}") from exc
        self.stdout.write(f"Restored as review {review.pk}: {review.title}")
