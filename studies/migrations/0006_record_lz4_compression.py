"""Compress the record table's long values with lz4 on PostgreSQL.

A record row (abstract, the original fields as JSON) often passes the 2 kB at which
PostgreSQL compresses values; its default, pglz, cost about 1 s of server CPU on a
100k-record import (8.0 -> 6.9 s measured, BENCHMARKS.md), and lz4 also reads back faster.
Only new values use it; old ones stay readable. Skipped on SQLite and on a server built
without lz4 (PostgreSQL 14+ lists it in default_toast_compression's choices when it has it).
"""

from django.db import migrations

COLUMNS = ("title", "abstract", "authors", "keywords", "raw")


def _lz4_available(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _set(compression: str):
    def run(apps, schema_editor):
        if not _lz4_available(schema_editor):
            return
        table = apps.get_model("studies", "Record")._meta.db_table
        qn = schema_editor.quote_name
        columns = ", ".join(f"ALTER COLUMN {qn(c)} SET COMPRESSION {compression}" for c in COLUMNS)
        schema_editor.execute(f"ALTER TABLE {qn(table)} {columns}")

    return run


class Migration(migrations.Migration):
    dependencies = [("studies", "0005_record_partial_fk_indexes")]

    operations = [migrations.RunPython(_set("lz4"), _set("pglz"))]
