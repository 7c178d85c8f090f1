"""Plain-Python parts of the coding workbench: reader segments, transcripts, statements."""

import io

import docx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmoc.compose import statement_compose
from cmoc.segments import page_of, split
from cmoc.transcripts import TranscriptError, parse_vtt, transcript_text


@st.composite
def text_and_excerpts(draw):
    text = draw(st.text(min_size=0, max_size=200))
    n = len(text)
    spans = draw(st.lists(st.tuples(st.integers(0, n + 5), st.integers(0, n + 5)), max_size=6))
    excerpts = [(i + 1, min(a, b), max(a, b)) for i, (a, b) in enumerate(spans)]
    pages = sorted(set(draw(st.lists(st.integers(0, n), max_size=4))))
    return text, excerpts, pages


@given(text_and_excerpts())
def test_segments_cover_text_and_excerpts_exactly(case):
    text, excerpts, pages = case
    segments = split(text, excerpts, pages)
    assert "".join(s.text for s in segments) == text
    pos = 0
    for s in segments:
        assert s.start == pos and s.end > s.start and text[s.start : s.end] == s.text
        pos = s.end
        for eid, start, end in excerpts:
            start, end = min(start, len(text)), min(end, len(text))
            covered = start <= s.start and s.end <= end
            assert (eid in s.excerpt_ids) == (covered and end > start)


def test_segments_mark_page_starts():
    text = "page one\fpage two\fpage three"
    segs = split(text, [(7, 5, 14)], [0, 9, 18])
    assert [s.page for s in segs if s.page] == [1, 2, 3]
    assert "".join(s.text for s in segs if 7 in s.excerpt_ids) == text[5:14]
    assert page_of([0, 9, 18], 10) == 2 and page_of([], 3) is None


VTT = """WEBVTT

NOTE recorded on Teams

00:00:01.000 --> 00:00:04.000
<v Interviewer>So does trust come first?</v>

1
00:00:04.500 --> 00:00:08.000
<v P07>Trust comes before anything.</v>

00:00:08.000 --> 00:00:10.000
<v P07>Without it <i>nothing</i> moves.</v>
"""


def test_vtt_merges_turns_by_speaker():
    assert parse_vtt(VTT) == (
        "Interviewer: So does trust come first?\n\n"
        "P07: Trust comes before anything. Without it nothing moves.\n"
    )


def test_vtt_errors_name_the_problem():
    with pytest.raises(TranscriptError, match="must start with 'WEBVTT'"):
        parse_vtt("00:00:01.000 --> 00:00:02.000\nhello", "x.vtt")
    with pytest.raises(TranscriptError, match="no cues"):
        parse_vtt("WEBVTT\n\n", "x.vtt")


def test_transcript_text_formats():
    assert transcript_text("a.txt", "Caf\u00e9 talk\r\nline".encode()) == "Café talk\nline"
    assert transcript_text("a.txt", "Caf\u00e9".encode("cp1252")) == "Café"
    d = docx.Document()
    d.add_paragraph("Interviewer: what helped?")
    d.add_paragraph("")
    d.add_paragraph("P01: Shared goals.")
    buf = io.BytesIO()
    d.save(buf)
    assert transcript_text("t.docx", buf.getvalue()) == (
        "Interviewer: what helped?\n\nP01: Shared goals.\n"
    )
    with pytest.raises(TranscriptError, match="t.docx: not a readable .docx"):
        transcript_text("t.docx", b"not a zip")
    with pytest.raises(TranscriptError, match="unsupported transcript format"):
        transcript_text("t.pdf", b"%PDF")
    with pytest.raises(TranscriptError, match="empty"):
        transcript_text("t.txt", b"")


def test_statement_compose():
    assert statement_compose(
        context="Partners share a goal.",
        resource="A joint board",
        reasoning="Partners trust each other",
        outcome="Sustained collaboration",
    ) == (
        "In the context of partners share a goal, a joint board triggers partners trust each "
        "other, leading to sustained collaboration."
    )
    assert statement_compose(context="Slow  progress", reasoning="Frustration", outcome="Exit") == (
        "In the context of slow progress, frustration, leading to exit."
    )
    assert statement_compose(outcome="better care") == "Better care."
    assert statement_compose() == ""


@given(st.text(), st.text(), st.text(), st.text())
def test_statement_compose_never_fails(c, r, m, o):
    s = statement_compose(context=c, resource=r, reasoning=m, outcome=o)
    assert s == "" or s.endswith(".")
