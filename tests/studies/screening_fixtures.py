"""Data for the screening tests: a review with two stages and N unique records."""

from studies.models import Record, ScreeningStage
from studies.services import screening as svc


def make_records(review, n: int, start: int = 0, **extra) -> list[Record]:
    """Like an import: bulk-created, then keyed for the random order."""
    records = Record.objects.bulk_create(
        [
            Record(
                review=review,
                title=f"Record {i} about care home collaboration",
                abstract=f"Abstract {i}: integrated care in hospitals and paediatric wards.",
                authors=[f"Author{i}, A.", "Other, B."],
                year=2000 + i % 20,
                journal="Journal of Care",
                doi=f"10.1000/rec{i}",
                keywords=["collaboration", "care"],
                position=i,
                **extra,
            )
            for i in range(start, start + n)
        ]
    )
    svc.record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)
    for r in records:
        r.refresh_from_db(fields=["screen_key"])
    return records


def make_stages(review, owner) -> tuple[ScreeningStage, ScreeningStage]:
    ta, ft = svc.stages_create_default(user=owner, review=review)
    ta.review = review
    ft.review = review
    return ta, ft


def pdf_bytes(pages: list[str]) -> bytes:
    """A minimal PDF with one line of text per page (pypdf can read it back)."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    for text in pages:
        page = writer.add_blank_page(width=300, height=300)
        font = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        })  # fmt: skip
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})
        })  # fmt: skip
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 200 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
