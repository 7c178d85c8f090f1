"""Replay a labelled screening dataset and report how well prioritisation would have done."""

import json

from django.core.management.base import BaseCommand, CommandError

from studies import ranking, ranking_sim


class Command(BaseCommand):
    help = (
        "Simulate prioritised screening on a labelled CSV or RIS file: WSS@95, WSS@100, "
        "RRF@10, records to 95 %/100 % recall and the recall curve, against random order "
        "and ASReview's default model (if ASREVIEW_PYTHON points at an ASReview install)."
    )

    def add_arguments(self, parser):
        parser.add_argument("dataset", help="CSV (title, abstract, label) or RIS file")
        parser.add_argument("--label-column", required=True, help="column/RIS tag with 1/0")
        parser.add_argument("--prior-included", type=int, default=1)
        parser.add_argument("--prior-excluded", type=int, default=1)
        parser.add_argument("--seeds", type=int, default=3)
        parser.add_argument(
            "--model",
            action="append",
            choices=ranking.MODELS,
            help=f"model(s) to simulate (default {ranking.DEFAULT_MODEL}); repeatable",
        )
        parser.add_argument("--no-asreview", action="store_true", help="skip ASReview")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        if opts["seeds"] < 1 or opts["prior_included"] < 1 or opts["prior_excluded"] < 1:
            raise CommandError("--seeds and the prior counts must be at least 1")
        try:
            ds = ranking_sim.load_dataset(opts["dataset"], opts["label_column"])
            log = None if opts["json"] else (lambda m: self.stderr.write(m))
            out = ranking_sim.run(
                ds,
                prior_included=opts["prior_included"],
                prior_excluded=opts["prior_excluded"],
                seeds=opts["seeds"],
                models=tuple(opts["model"] or (ranking.DEFAULT_MODEL,)),
                asreview=not opts["no_asreview"],
                log=log,
            )
        except ranking_sim.DatasetError as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(out))
            return
        self.stdout.write(ranking_sim.table([out]))
        self.stdout.write(f"\nASReview: {out['asreview']}")
