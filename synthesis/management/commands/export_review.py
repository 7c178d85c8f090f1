from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from synthesis import backup
from synthesis.models import Review, Role


class Command(BaseCommand):
    help = "Back up a whole review (data, document files, audit trail) to one zip archive."

    def add_arguments(self, parser):
        parser.add_argument("--review", type=int, required=True)
        parser.add_argument("--output", "-o", required=True, help="Archive to write (.zip)")

    def handle(self, *args, **options):
        try:
            review = Review.objects.get(pk=options["review"])
        except Review.DoesNotExist as exc:
            raise CommandError(f"No review with id {options['review']}.") from exc
        owner = (
            get_user_model()
            .objects.filter(memberships__review=review, memberships__role=Role.OWNER)
            .first()
        )
        if owner is None:
            raise CommandError("The review has no owner to export on behalf of.")
        counts = backup.review_export(user=owner, review=review, path=options["output"])
        self.stdout.write(f"Wrote {options['output']}: {sum(counts.values())} rows.")
