"""What the page benchmarks share (activity, exports, cmoc): Django set up on a benchmark
database, and that database emptied for a fresh build.

`DATABASE_URL=postgres://…` is used as is (its tables are emptied); otherwise a SQLite file in
the temporary directory, one per benchmark. Not a benchmark itself (`make bench` skips `_*.py`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def django_setup(name: str) -> tuple[Path, bool]:
    """Configure and set up Django for the benchmark `name`: (its SQLite file, whether the
    database is PostgreSQL instead)."""
    db = Path(tempfile.gettempdir()) / f"retroduce_bench_{name}.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DEBUG", "False")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django
    from django.conf import settings

    django.setup()
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    return db, os.environ["DATABASE_URL"].startswith("postgres")


def database_empty(db: Path, on_pg: bool) -> None:
    """A migrated, empty database: PostgreSQL's tables flushed, SQLite's file started again."""
    from django.core.management import call_command

    if on_pg:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        call_command("migrate", verbosity=0)
