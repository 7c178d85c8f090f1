from django.core.management.base import BaseCommand

from synthesis.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo review (built from the seed report). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete and rebuild the demo.")

    def handle(self, *args, reset=False, **options):
        review, created = demo_load(reset=reset)
        verb = "Loaded" if created else "Demo review already present:"
        self.stdout.write(
            f"{verb} “{review.title}” (id {review.pk}): {review.studies.count()} studies, "
            f"{review.cmocs.count()} CMOCs, {review.concepts.count()} concepts."
        )
