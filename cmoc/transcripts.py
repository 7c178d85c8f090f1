"""Turn uploaded interview transcripts (TXT, DOCX, WebVTT) into plain text.

No Django import. DOCX goes through python-docx. WebVTT is parsed here by hand: the cue format
is a few lines of syntax (header, optional cue ids, a timing line, text, blank line), the only
candidate library (webvtt-py) is not in our dependency set, and we need something it does not
do — merge consecutive cues by the same ``<v Speaker>`` into readable turns, so excerpts read
like quotes rather than two-second caption fragments.
"""

import io
import re


class TranscriptError(ValueError):
    pass


FORMATS = ("txt", "docx", "vtt")

_TIMING = re.compile(r"^\s*(\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}\s+-->\s+(\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}")
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>(.*?)(?:</v>)?$")
_TAG = re.compile(r"</?[^>]+>")


def format_of(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in FORMATS:
        raise TranscriptError(
            f"{filename}: unsupported transcript format '.{ext}' (use .txt, .docx or .vtt)."
        )
    return ext


def decode_text(data: bytes, filename: str = "file") -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise TranscriptError(f"{filename}: cannot decode the text (not UTF-8 or Windows-1252).")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_vtt(text: str, filename: str = "file.vtt") -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise TranscriptError(f"{filename}, line 1: a WebVTT file must start with 'WEBVTT'.")
    turns: list[list[str]] = []  # [speaker, text]
    i = 1
    while i < len(lines):
        line = lines[i]
        if _TIMING.match(line):
            i += 1
            cue: list[str] = []
            while i < len(lines) and lines[i].strip():
                cue.append(lines[i].strip())
                i += 1
            for raw in cue:
                m = _VOICE.match(raw)
                speaker, said = (m.group(1).strip(), m.group(2)) if m else ("", raw)
                said = _TAG.sub("", said).strip()
                if not said:
                    continue
                if turns and turns[-1][0] == speaker:
                    turns[-1][1] += " " + said
                else:
                    turns.append([speaker, said])
            continue
        if line.startswith(("NOTE", "STYLE", "REGION")):
            while i < len(lines) and lines[i].strip():
                i += 1
        i += 1
    if not turns:
        raise TranscriptError(f"{filename}: no cues with text found.")
    return "\n\n".join(f"{s}: {t}" if s else t for s, t in turns) + "\n"


def parse_docx(data: bytes, filename: str = "file.docx") -> str:
    import docx  # python-docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a non-DOCX zip
        raise TranscriptError(f"{filename}: not a readable .docx file ({exc}).") from exc
    paragraphs = [p.text for p in document.paragraphs]
    return "\n\n".join(p for p in paragraphs if p.strip()) + "\n"


def transcript_text(filename: str, data: bytes) -> str:
    """The text of an uploaded transcript, or TranscriptError naming the file and problem."""
    fmt = format_of(filename)
    if not data:
        raise TranscriptError(f"{filename}: the file is empty.")
    if fmt == "docx":
        text = parse_docx(data, filename)
    elif fmt == "vtt":
        text = parse_vtt(decode_text(data, filename), filename)
    else:
        text = decode_text(data, filename)
    if not text.strip():
        raise TranscriptError(f"{filename}: no text found.")
    return text
