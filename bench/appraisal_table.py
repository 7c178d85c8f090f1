"""Characteristics table and progress page at scale.

    .venv/bin/python bench/appraisal_table.py [n_studies ...]

Uses a throwaway SQLite database under /tmp."""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DB = Path(tempfile.gettempdir()) / "retroduce-bench-appraisal.sqlite3"
DB.unlink(missing_ok=True)
os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

call_command("migrate", verbosity=0)

from studies.models import ExtractionAnswer, Study  # noqa: E402
from studies.selectors_appraisal import characteristics_table, progress, progress_summary  # noqa: E402
from studies.services.extraction import extraction_form_create_default  # noqa: E402
from synthesis.services import review_create  # noqa: E402

COUNTRIES = ["England", "Scotland", "USA", "Mixed", "N/A"]


def run(n: int) -> None:
    user = get_user_model().objects.create_user(f"bench{n}")
    review = review_create(user=user, title=f"Bench {n}")
    form = extraction_form_create_default(user=user, review=review)
    fields = list(form.fields.all())
    studies = Study.objects.bulk_create(Study(review=review, label=f"S{i:06d}") for i in range(n))
    answers = []
    for i, s in enumerate(studies):
        for f in fields:
            value = f.choices[i % len(f.choices)] if f.choices else f"{f.key} {i % 37}"
            if f.key == "country":
                value = COUNTRIES[i % len(COUNTRIES)]
            answers.append(ExtractionAnswer(study=s, field=f, extractor=user, value=value))
    ExtractionAnswer.objects.bulk_create(answers, batch_size=5000)
    t = time.perf_counter()
    with CaptureQueriesContext(connection) as q:
        _, rows = characteristics_table(review=review, form=form, sort="country", desc=True)
    t_table = time.perf_counter() - t
    t = time.perf_counter()
    _, filtered = characteristics_table(review=review, form=form, filters={"country": "USA"})
    t_filter = time.perf_counter() - t
    t = time.perf_counter()
    page = list(progress(review=review)[:100])
    t_progress = time.perf_counter() - t
    t = time.perf_counter()
    summary = progress_summary(review=review)
    t_summary = time.perf_counter() - t
    print(
        f"{n:>6} studies · {len(answers):>6} answers | table {t_table * 1000:7.0f} ms "
        f"({len(q.captured_queries)} queries, {len(rows)} rows) | filter {t_filter * 1000:6.0f} ms "
        f"({len(filtered)}) | progress page {t_progress * 1000:5.0f} ms ({len(page)}) | "
        f"summary {t_summary * 1000:6.0f} ms ({summary['extracted']} extracted)"
    )


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [500, 2000, 10000]:
        run(n)
    DB.unlink(missing_ok=True)
