"""Bytes → text for the text-based formats, with the few encodings analysts' files really come in."""

from __future__ import annotations

import codecs
from pathlib import Path

from synth.errors import InputError

CP1252_NOTE = "decoded as cp1252 (not valid UTF-8)"
UTF16_NOTE = "decoded as UTF-16 (byte-order mark found)"

# cp1252 as browsers decode it (WHATWG "windows-1252"): the five bytes cp1252 leaves undefined map to the
# C1 controls, so one stray byte in an old export does not sink the file; real binary data is still refused
# by `_looks_binary`.
_CP1252 = {i: bytes([i]).decode("cp1252") for i in range(0x80, 0xA0) if i not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}

# Tab, newline, carriage return and form feed occur in real text; other C0 controls mean binary data.
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


def decode_text(path: Path, data: bytes) -> tuple[str, tuple[str, ...]]:
    """Decode a text file's bytes: UTF-8 (BOM stripped), else cp1252 with a note; binary data is an InputError.

    Line endings are kept exactly as in the file, because every later offset points into this text.
    """
    notes: tuple[str, ...] = ()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(path, "starts with a UTF-16 byte-order mark but is not valid UTF-16: "
                                   "re-save it as UTF-8 text") from None
        notes = (UTF16_NOTE,)
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1").translate(_CP1252)
            notes = (CP1252_NOTE,)
    if _looks_binary(text):
        raise InputError(path, f"binary data, not text: a {path.suffix or 'plain'} file must hold text; "
                               "check it is the right file, or export it as UTF-8 text")
    if not text.strip():
        raise InputError(path, "empty file (nothing but whitespace): add its text or leave it out")
    return text, notes


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    sample = text[:65536]
    controls = sum(1 for ch in sample if (ch < " " and ch not in _TEXT_CONTROLS) or "\x7f" <= ch <= "\x9f")
    return controls > max(2, len(sample) // 100)
