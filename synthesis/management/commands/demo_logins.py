from django.core.management.base import BaseCommand

from synthesis.demo import DEMO_PASSWORD, DEMO_USERS, demo_review


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args, **options):
        review = demo_review()
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, name, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {name:<14} {role}")
        if review:
            self.stdout.write(f"Demo review: http://127.0.0.1:8000/reviews/{review.pk}/")
        self.stdout.write("")
