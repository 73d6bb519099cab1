"""Structure is not content: which passages are headings, publication furniture, contents lists,
reference-list entries or captions, and under which heading each passage sits.

Ingest asks this module about every passage a source's reader and segmenter produced. A passage
that is structure keeps its place in the source (the source view shows it, with its reason) but is
not codable, so it is never clustered into a theme; a reviewer can include it again
(`synth passage include`). The decision must never drop a substantive statement, so every rule
below errs towards content: each one needs positive evidence (a pattern that statements do not
have, and a passage short enough to be nothing else), and what a person said is never a heading:

- table rows (survey answers, excerpts) are never structure: each is an answer somebody gave;
- speaker turns (interviews) get only the rules for marked-up headings and furniture, never the
  title-like-line rule: speech has no headings, and "Transport, mainly" is an answer;
- the title-like-line rule (a short line without a finite verb) fires only in document text, and
  only when more text follows it in the same source.

Why heuristics rather than a tagger: the default spaCy pipeline (blank English, sentencizer,
lookup lemmatiser) has no part-of-speech tags, and as with sentence boundaries (see `synth.nlp`)
the same text must get the same decision on every machine, whatever models are installed. "No
finite verb" is therefore approximated by the absence of auxiliaries, modals, negation, subject
pronouns, common irregular finite forms and past forms after a noun ("most participants valued");
it only ever runs on lines of a few words, and when in doubt it finds a verb (so: content).

Every rule is a record (`Rule`: kind, reason, and how it matches), so the reason stored with a
passage is the one that fired, and the list of rules reads as the definition of "structure".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .records import ExtractedDocument, PassageSpan

STRUCTURE_KINDS = ("heading", "furniture", "contents", "reference", "caption")


@dataclass(frozen=True)
class StructureNote:
    """What this module says about one passage: its structure kind and reason (None for content),
    and the text of the heading it sits under (None before the first heading)."""

    kind: str | None = None
    reason: str | None = None
    section_heading: str | None = None


@dataclass(frozen=True)
class Line:
    """One passage as the rules see it, with the context that some of them need."""

    text: str               # the passage, stripped
    plain: str              # without markdown emphasis, heading marks or a leading list marker
    words: int              # word count of `plain`
    single_line: bool
    document: bool          # document text (not a speaker turn): the title-like rule may apply
    followed: bool          # more text follows in the same source
    before_first_sentence: bool  # no sentence-like passage came before it in the source
    index: int                   # its position among the source's passages
    section: str            # the current section heading, lower-cased ('' when none)
    repeats: int            # how often this line occurs, as a whole line, in the source text
    heading: str = ""       # `heading_text` of the passage, lower-cased (what a section rule compares)


@dataclass(frozen=True)
class Rule:
    kind: str
    reason: str
    matches: Callable[[Line], bool]
    in_speech: bool = True  # whether it may fire inside a speaker turn (the shape of a line may not)
    starts_section: bool = False  # the passages after it sit under it (until the next such passage)


# --- words and patterns ----------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_BULLET = re.compile(r"^(?:[-*•·‣◦▪–—]|\d{1,3}\)|\(?[ivxlcIVXLC]{1,5}[.)]|\(?[a-zA-Z]\))\s+")
_NUMBERED_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[A-Z]\.|(?:chapter|section|part)\s+\w+[.:]?)\s+(?=\S)",
                               re.IGNORECASE)
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+\S")
_EMPHASIS = re.compile(r"\*\*|__|<\/?(?:b|strong|em|i)>", re.IGNORECASE)
_EMPHASIS_ONLY = re.compile(r"^(?:\*\*|__)(?=\S)[^*_\n]{2,120}(?<=\S)(?:\*\*|__):?$")
_URL = re.compile(r"<?(?:https?://|www\.)[^\s<>]+>?", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)(?:\+\d{1,3}[\s-]?)?\(?0?\d{2,5}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\w)")
_CONTACT_LABEL = re.compile(
    r"^(?:web ?site|web|url|e-?mail(?: address)?|tel(?:ephone)?|phone|fax|mobile|media enquiries|press office|"
    r"press enquiries|out of hours|public enquiries|general enquiries|enquiries|contact(?: us| details)?|twitter|"
    r"follow us|address)\b[^:\n]{0,25}:", re.IGNORECASE)

# Finite-verb evidence for short lines (see the module docstring).
_AUXILIARIES = frozenset(
    "am is are was were has have had do does did can could will would shall should might must cannot "
    "isn't aren't wasn't weren't hasn't haven't hadn't don't doesn't didn't can't couldn't won't wouldn't "
    "shouldn't mustn't not never please".split())
_PRONOUNS = frozenset("i we you he she they it there".split())
_BEFORE_PARTICIPLE = frozenset("the a an of for to in on at by with from and or as into its their our your "
                               "his her this these those newly well".split())
_FINITE_FORMS = frozenset(
    "said says told tells felt feels thought thinks went goes got gets took takes gave gives came comes saw sees "
    "knew knows became becomes began begins seems seemed wanted wants helped helps tried tries asked asks "
    "found finds agreed agrees showed shows suggests suggested remains remained".split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def has_finite_verb(text: str) -> bool:
    """Evidence of a clause in a short line: an auxiliary or modal, negation, a subject pronoun
    followed by a word, a common finite form, a past form after a noun, or a contraction ("it's")."""
    words = _words(text)
    for i, word in enumerate(words):
        lower = word.lower().replace("’", "'")
        if lower in _AUXILIARIES or lower in _FINITE_FORMS:
            return True
        if lower == "may" and word == "may":  # "May" is usually the month
            return True
        if lower in _PRONOUNS and i + 1 < len(words) and not (lower == "it" and word == "IT"):
            return True
        # "most participants valued the sessions": a past form after a word that is not a
        # determiner or preposition reads as a verb; headings put it first ("Related research").
        if i and len(lower) > 4 and lower.endswith("ed") and words[i - 1].lower() not in _BEFORE_PARTICIPLE:
            return True
        if re.search(r"['](?:s|re|ve|ll|d|m)$", lower) and lower not in ("'s",):
            # "it's", "they've", "I'm"; a possessive ("Jobcentre Plus's") is not a clause
            if lower.split("'")[0] in _PRONOUNS | {"that", "what", "who", "here", "where", "how"}:
                return True
    return False


def _plain(text: str) -> str:
    """The passage without heading marks, emphasis or a leading list marker, whitespace collapsed."""
    text = re.sub(r"^#{1,6}\s+", "", text.strip())
    text = _EMPHASIS.sub("", text)
    text = re.sub(r"<sup>.*?</sup>", "", text)
    text = _BULLET.sub("", text, count=1)
    return " ".join(text.split())


def heading_text(text: str) -> str:
    """A heading as it is shown beside the passages under it: marks and a trailing colon removed."""
    return _plain(text).rstrip(":").strip() or text.strip()


def _sentence_like(line: Line) -> bool:
    return line.text.rstrip().endswith((".", "!", "?", ";")) or (line.words > 12) or has_finite_verb(line.plain)


def _remainder_words(text: str, *patterns: re.Pattern[str]) -> int:
    for pattern in patterns:
        text = pattern.sub(" ", text)
    text = _CONTACT_LABEL.sub(" ", text)
    return len(_words(text))


# --- the rules ---------------------------------------------------------------------------------

def _search(pattern: str, max_words: int, flags: int = re.IGNORECASE) -> Callable[[Line], bool]:
    compiled = re.compile(pattern, flags)
    return lambda line: line.words <= max_words and compiled.search(line.plain) is not None


def _title_like(line: Line) -> bool:
    """A short line standing alone above more text, shaped like a title rather than a sentence."""
    text = line.plain
    if not (line.document and line.followed and line.single_line) or not text:
        return False
    if _BULLET.match(line.text) or not (text[0].isupper() or text[0].isdigit()):
        return False
    if text.endswith((".", ",", ";", "!")) or len(text) > 100:
        return False
    body = _NUMBERED_HEADING.sub("", text, count=1)
    words = len(_words(body))
    if words == 0:
        return False
    if text.endswith("?"):  # "How will applicants be assessed?": a question heading
        return words <= 8 and text[0].isupper()
    if text.endswith(":") and words > 5:  # "Research methods comprise of four broad elements:"
        return False
    return words <= 10 and not has_finite_verb(body)


def _document_title(line: Line) -> bool:
    """The title lines at the top of a document (its first two passages), before its first sentence."""
    if not (line.document and line.followed and line.before_first_sentence and line.index < 2):
        return False
    lines = [ln.strip() for ln in line.text.splitlines() if ln.strip()]
    return all(len(_words(ln)) <= 25 and not ln.endswith((".", ";", ",")) and not has_finite_verb(ln)
               and not _BULLET.match(ln) for ln in lines)


def _byline(line: Line) -> bool:
    match = re.match(r"^By\s+(.+?)\.?$", line.plain)
    if not match or line.words > 40:
        return False
    names = [w for w in re.split(r"\s*(?:,|\band\b|&)\s*", match.group(1)) if w]
    return len(names) >= 1 and all(len(n.split()) >= 2 and all(p[:1].isupper() for p in n.split()) for n in names)


def _address_only(line: Line) -> bool:
    found = _URL.search(line.plain) or _EMAIL.search(line.plain)
    return bool(found) and line.words <= 20 and _remainder_words(line.plain, _URL, _EMAIL) <= 3


def _phone_only(line: Line) -> bool:
    return bool(_PHONE.search(line.plain)) and line.words <= 12 and _remainder_words(line.plain, _PHONE) <= 4


def _reference_entry(line: Line) -> bool:
    """Author-year citations standing alone: "Smith, J. (2019) Title. Publisher." or a DOI."""
    if line.words > 80:
        return False
    text = line.plain
    author_year = re.match(r"^[A-Z][\w'’-]+,?\s+(?:[A-Z]\.\s*){1,3}.{0,120}?[(\s](?:19|20)\d\d[a-z]?\)?(?:[.,:]|\s|$)",
                           text)
    return bool(author_year) or bool(re.search(r"\bdoi:\s*10\.|doi\.org/10\.", text, re.IGNORECASE))


_REFERENCE_SECTION = re.compile(
    r"^(?:references|bibliography|works cited|literature cited|further reading|see also|"
    r"related (?:[\w-]+ ){0,2}(?:research|reports|publications|reading|links|documents|guidance))$")
_HISTORY_SECTION = re.compile(r"^(?:updates to this page|page history|change history|document history|revision history)$")
_CONTENTS_SECTION = re.compile(r"^(?:contents|table of contents|contents page)$")

# In order: the first rule that matches a passage gives its kind and reason. Specific patterns come
# first; the title-like-line rule comes late, and the section rules (entries under a references or
# page-history heading) last, so that the next heading still ends such a section.
RULES: tuple[Rule, ...] = (
    Rule("furniture", "a separator line or a stray list marker",
         lambda ln: bool(re.fullmatch(r"[\s\-–—_*•·=~#|]+", ln.text))),
    Rule("furniture", "page number", _search(r"^(?:[Pp]age\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^[ivxlc]{2,6}$", 4, 0)),
    Rule("contents", "contents heading", lambda ln: bool(_CONTENTS_SECTION.match(ln.heading)),
         starts_section=True),
    Rule("contents", "contents entry (title and page number)",
         _search(r"(?:\.{4,}|…{2,}|(?:\.\s){3,}|\t)\s*\d{1,4}$", 25, 0)),
    Rule("contents", "entry of a contents list",
         lambda ln: bool(_CONTENTS_SECTION.match(ln.section)) and ln.words <= 25
         and all(re.search(r"\s\d{1,4}$", x.strip()) for x in ln.text.splitlines() if x.strip())),
    Rule("furniture", "ISBN", _search(r"\bISBN(?:-1[03])?\b", 60, 0)),
    Rule("furniture", "copyright line",
         _search(r"©|\(c\)\s*(?:19|20)\d\d|\bcrown copyright\b|\bcopyright\s*(?:©\s*)?(?:19|20)\d\d|"
                 r"\ball rights reserved\b", 60)),
    Rule("furniture", "licence text",
         _search(r"\bopen government licen[cs]e\b|\bcreative commons\b|\blicen[cs]ed under\b|"
                 r"\bre-?use this (?:information|material|publication)\b|\bCC[ -]BY\b", 100)),
    Rule("furniture", "publication date or page history",
         _search(r"^(?:first\s+)?published(?::|\s+on)?\s+\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}|"
                 r"\blast updated\b|^first published\.?$|\bshow all updates\b", 25)),
    Rule("furniture", "page-history heading", lambda ln: bool(_HISTORY_SECTION.match(ln.heading)),
         starts_section=True),
    Rule("furniture", "press-release furniture (notes to editors)",
         _search(r"^notes? (?:to|for) editors\b|^ends\.?$|^press release$", 8)),
    Rule("furniture", "contact line (label: address or number)",
         lambda ln: ln.words <= 15 and bool(_CONTACT_LABEL.match(ln.plain))),
    Rule("furniture", "web or email address", _address_only),
    Rule("furniture", "phone number", _phone_only),
    Rule("furniture", "publication boilerplate (where to get the report, who to ask)",
         _search(r"\bdownload the (?:full )?(?:report|summary|publication)\b|\bother report summaries\b|"
                 r"\bif you would like to know more about\b.*\b(?:e-?mail|contact|write)\b|"
                 r"\bfull report of these (?:research )?findings is published\b|"
                 r"\bavailable (?:to download )?(?:free )?from the website\b", 50)),
    Rule("furniture", "author line", _byline),
    Rule("caption", "figure or table caption",
         lambda ln: ln.words <= 30 and bool(re.match(
             r"^(?:Figure|Fig\.|Table|Chart|Graph|Exhibit|Box|Map|Diagram)\s+(?:[A-Z]?\d+(?:[.\-]\d+)*[a-z]?|[IVX]+)"
             r"\s*(?:[:.–—-]\s|$)", ln.plain))),
    Rule("caption", "source line of a figure or table", _search(r"^(?:source|sources|base)\s*:", 30)),
    Rule("reference", "reference-list entry", _reference_entry),
    Rule("heading", "markdown heading", lambda ln: ln.single_line and bool(_MARKDOWN_HEADING.match(ln.text)),
         starts_section=True),
    Rule("heading", "emphasised line on its own",
         lambda ln: ln.single_line and bool(_EMPHASIS_ONLY.match(ln.text)) and not has_finite_verb(ln.plain),
         starts_section=True),
    Rule("furniture", "repeated line (running header or footer)",
         lambda ln: ln.single_line and ln.repeats >= 3 and ln.words <= 12 and not _BULLET.match(ln.text),
         in_speech=False),
    Rule("heading", "document title", _document_title, in_speech=False, starts_section=True),
    Rule("heading", "title-like line without a finite verb, above more text", _title_like, in_speech=False,
         starts_section=True),
    Rule("furniture", "entry of a page's update history",
         lambda ln: bool(_HISTORY_SECTION.match(ln.section)) and ln.words <= 20),
    Rule("reference", "entry under a references heading",
         lambda ln: bool(_REFERENCE_SECTION.match(ln.section)) and ln.words <= 60),
)



# --- a source's passages ------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """What `annotate` needs to know about one passage of a source."""

    text: str
    in_turn: bool      # inside a speaker turn
    classify: bool = True  # False: leave it alone (an interviewer's turn: context, never coded anyway)


def _normal_line(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def annotate(source_text: str, spans: Sequence[Span], *, table_row: bool = False) -> list[StructureNote]:
    """A note per passage of one source, in order: structure kind and reason (or None), and the
    heading each passage sits under. A table row is never structure (see the module docstring)."""
    if table_row:
        return [StructureNote() for _ in spans]
    repeats = Counter(_normal_line(x) for x in source_text.splitlines() if x.strip())
    notes: list[StructureNote] = []
    section = ""      # lower-cased, for the section rules
    shown: str | None = None  # as written, for people
    seen_sentence = False
    for i, span in enumerate(spans):
        text = span.text.strip()
        plain = _plain(text)
        line = Line(text=text, plain=plain, words=len(_words(plain)), single_line="\n" not in text,
                    document=not span.in_turn, followed=i + 1 < len(spans),
                    before_first_sentence=not seen_sentence, index=i, section=section,
                    repeats=repeats[_normal_line(text)] if "\n" not in text else 0,
                    heading=(plain.rstrip(":").strip() or text).lower())
        rule = _first_rule(line) if span.classify and text else None
        notes.append(StructureNote(rule.kind if rule else None, rule.reason if rule else None, shown))
        if rule is not None and rule.starts_section:
            shown = heading_text(text)
            section = shown.lower()
        elif rule is None and _sentence_like(line):
            seen_sentence = True
        if rule is None and line.words > 12:
            seen_sentence = True
    return notes


def _first_rule(line: Line) -> Rule | None:
    for rule in RULES:
        if (line.document or rule.in_speech) and rule.matches(line):
            return rule
    return None


def classify_text(text: str) -> StructureNote:
    """One text on its own, as a one-passage document (what the rules say of it without context)."""
    return annotate(text, [Span(text, in_turn=False)])[0]


def annotate_document(doc: ExtractedDocument, spans: Sequence[PassageSpan]) -> list[StructureNote]:
    """`annotate` for the passages the segmenter cut from one read document (what ingest calls).

    Interviewer turns are left alone: they are context, never coded, so never structure either."""
    interviewer = [(t.start_char, t.end_char) for t in doc.turns if t.is_interviewer]
    in_turns = [(t.start_char, t.end_char) for t in doc.turns]
    marked = [Span(s.text,
                   in_turn=any(a <= s.start_char < b for a, b in in_turns),
                   classify=not any(a <= s.start_char < b for a, b in interviewer))
              for s in spans]
    return annotate(doc.text, marked, table_row=is_table_row(doc.path))


def is_table_row(path: str) -> bool:
    """Whether a document is one row of a table (readers name those `table.csv#row=N`)."""
    return "#row=" in path
