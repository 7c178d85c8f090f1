"""Export a review's causal web: `manage.py export_web --review ID --format jgf|graphml|dot|svg`."""

import sys

from django.core.management.base import BaseCommand, CommandError

from cmoc import graph, selectors_theory
from cmoc.models import TheoryVersion
from synthesis.models import Review


class Command(BaseCommand):
    help = "Export the causal web (JSON Graph Format, GraphML, DOT or SVG) to stdout or a file."

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, type=int, help="Review id.")
        parser.add_argument("--format", required=True, choices=sorted(graph.EXPORTERS))
        # `--version` is the spelling; it replaces Django's "print Django's version".
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        parser.add_argument("--version", type=int, help="Programme theory version number.")
        parser.add_argument(
            "--level",
            choices=["concept", "cmoc"],
            default="concept",
            help="Concept web (default) or CMOC chains.",
        )
        parser.add_argument("--phase", action="append", default=[], help="Only this phase.")
        parser.add_argument("--min-sources", type=int, default=0)
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, **opts):
        try:
            review = Review.objects.get(pk=opts["review"])
        except Review.DoesNotExist as exc:
            raise CommandError(f"No review with id {opts['review']}.") from exc
        try:
            _data, web = selectors_theory.web_graph(
                review=review,
                version=opts["version"],
                level=opts["level"],
                phases=opts["phase"],
                min_sources=opts["min_sources"],
            )
        except TheoryVersion.DoesNotExist as exc:
            raise CommandError(
                f"Review {review.pk} has no programme theory version {opts['version']}."
            ) from exc
        which = f"v{opts['version']}" if opts["version"] else "current"
        body = graph.export(
            web,
            opts["format"],
            label=f"{review.title} — causal web ({which})",
            metadata={"review": review.pk, "version": opts["version"]},
        )
        if opts["output"]:
            with open(opts["output"], "w", encoding="utf-8") as fh:
                fh.write(body)
            self.stderr.write(
                f"Wrote {web.number_of_nodes()} nodes and {web.number_of_edges()} edges to "
                f"{opts['output']}."
            )
        else:
            (self.stdout if self.stdout else sys.stdout).write(body, ending="")
