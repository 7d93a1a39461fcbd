"""spaCy tokenisation and pattern features.

Every language gets a blank spaCy pipeline: its tokenizer exceptions and
punctuation rules. The models read spaCy's tokens; a ``Matcher`` finds time
expressions (the ``xxtime`` cue behind ``timeframe``) and the customer's name
(behind ``uses_name``). Sentence splitting was tried for the checklist's
question detection (a customer question is any sentence that opens with a
question word) and lost agreement with annotators on the corpus (0.774 ->
0.772), so no stage uses it.

Two choices keep this inside the nightly throughput budget (bench/results.md):
spaCy splits text on whitespace and tokenises each chunk on its own, so a
chunk's tokens are computed once and reused (tokens of the whole text are
equal, a test checks it); and the Matcher compares token classes in C and
only runs on a few tokens around a unit, a clock time or "am"/"pm" that has a
partner a pattern could pair it with (one-token patterns such as a day name are
decided by the token's class alone; for names, only on tokens that start with
the name's stem).
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache


def _import_spacy_without_torch():
    # thinc, which spaCy imports, imports torch when it is installed (the
    # benchmark's encoder installs it): 2 s more start-up for every worker
    # process, for nothing the tokenizer or the Matcher uses.
    if "torch" in sys.modules:
        import spacy
        return spacy
    sys.modules["torch"] = None  # makes `import torch` raise ImportError
    try:
        import spacy
        import spacy.matcher
        import spacy.tokens
    finally:
        del sys.modules["torch"]
    return spacy


spacy = _import_spacy_without_torch()
from spacy.matcher import Matcher  # noqa: E402
from spacy.tokens import Doc  # noqa: E402

SPACY_LANGUAGES = ("en", "hr", "sr", "lv")

# Matched on folded lower-case tokens (diacritics folded, Cyrillic transliterated).
TIME_WORDS = frozenset(
    "today tomorrow tonight monday tuesday wednesday thursday friday saturday sunday weekend "
    "danas sutra prekosutra ponedjeljak ponedeljak ponedjeljka ponedeljka utorak utorka srijeda srijedu srijede "
    "sreda sredu srede cetvrtak cetvrtka petak petka subota subotu subote nedjelja nedjelju nedjelje nedelja nedelju "
    "vikend sodien rit parit pirmdien otrdien tresdien ceturtdien piektdien sestdien svetdien pirmdienai otrdienai "
    "tresdienai ceturtdienai piektdienai nedelas".split()
)
# Spelled-out amounts: phone transcripts say "two days", "dva dana", "divas dienas".
NUMBER_WORDS = frozenset(
    "an one two three four five six seven eight nine ten twelve fifteen twenty thirty forty fortyeight "
    "couple few several half "
    "jedan jedna jednu jednog dva dvije dve dvaju tri cetiri pet sest sedam osam devet deset petnaest dvadeset "
    "trideset cetrdeset par nekoliko pola "
    "viena vienu vienas divas divi divam trim tris cetras cetri piecas pieci sesas sesi septinas astonas desmit "
    "dazas dazam dazu pus pusotras".split()
)
_UNIT = (
    r"^(?:sec|secs|seconds?|sek\w*|mins?|minut\w*|h|hrs?|hours?|sat|sata|sati|satu|satima|days?|dan|dana|danu|"
    r"danima|dni|weeks?|tjed\w*|nedelj\w*|sedmic\w*|stund\w*|dien\w*|months?|mjesec\w*|mesec\w*|menes\w*|nedel\w*)$"
)
# Token classes the patterns match on, decided once per distinct token and kept
# as the lexeme's NORM: the Matcher then compares hashes in C, where REGEX and IN
# predicates would call Python for every token.
_REGEX_CLASSES = [
    ("xxclock", re.compile(r"^\d{1,2}:\d{2}h?$")),
    ("xxclockdot", re.compile(r"^\d{1,2}\.\d{2}h?$")),
    ("xxtimetoken", re.compile(r"^\d+(?:h|min|mins|sati?|am|pm)$")),
    ("xxcount", re.compile(r"^\d+(?:[.,]\d+)?$")),
    ("xxunit", re.compile(_UNIT)),
]
_WORD_CLASSES = {
    **dict.fromkeys(TIME_WORDS, "xxtimeword"),
    **dict.fromkeys(NUMBER_WORDS, "xxcount"),
    **dict.fromkeys(["am", "pm", "oclock", "o'clock"], "xxampm"),
    **dict.fromkeys(["-", "–", "to", "or", "ili", "vai", "/"], "xxrange"),
    # both a range ("2 do 3 dana") and a clock preposition ("do 14.30")
    **dict.fromkeys(["do", "lidz"], "xxdo"),
    **dict.fromkeys(["at", "by", "before", "after", "until", "till", "from", "around", "u", "od", "oko", "nakon",
                     "poslije", "posle", "prije", "pre", "pirms", "pec", "ap", "no"], "xxprep"),
    **dict.fromkeys(["business", "working", "work", "calendar", "radna", "radnih", "radnim", "radni", "radnog",
                     "darba", "kalendarskih"], "xxqual"),
    **dict.fromkeys(["end", "kraja", "kraj", "krajem"], "xxend"),
    **dict.fromkeys(["of", "the", "this", "ovog", "ovoga"], "xxof"),
    **dict.fromkeys(["beigam", "beigas", "laika"], "xxbeigas"),
}
# Every pattern longer than one token holds one of these triggers and one of its
# partners; a Doc is only built around a trigger with a partner near it.
_PARTNERS = {
    "xxunit": frozenset(["xxcount", "xxend", "xxbeigas"]),
    "xxclockdot": frozenset(["xxprep", "xxdo", "xxampm"]),
    "xxampm": frozenset(["xxcount", "xxclockdot"]),
}
# Classes that a one-token pattern matches on their own: no Doc needed.
_SINGLE_TOKEN_MATCHES = frozenset(["xxclock", "xxtimetoken", "xxtimeword"])


def _p(*classes: str) -> list[dict]:
    return [{"NORM": c} for c in classes]


TIME_PATTERNS = [
    # "48 hours", "5 radnih dana", "3 darba dienas", "2-3 dana", "two to three working days"
    _p("xxcount", "xxunit"), _p("xxcount", "xxqual", "xxunit"),
    *[_p("xxcount", r, "xxcount", *q, "xxunit") for r in ("xxrange", "xxdo") for q in ((), ("xxqual",))],
    # "24h", "15min", "5pm", "14:30"
    _p("xxtimetoken"), _p("xxclock"),
    # "u 14.30" (a dot alone also writes prices, so a preposition must come first), "at 5 pm"
    _p("xxprep", "xxclockdot"), _p("xxdo", "xxclockdot"), _p("xxcount", "xxampm"), _p("xxclockdot", "xxampm"),
    _p("xxtimeword"),
    # "end of the week", "do kraja tjedna", "lidz menesa beigam"
    _p("xxend", "xxunit"), _p("xxend", "xxof", "xxunit"), _p("xxend", "xxof", "xxof", "xxunit"),
    _p("xxunit", "xxbeigas"),
]


def token_class(token: str) -> str | None:
    cls = _WORD_CLASSES.get(token)
    if cls:
        return cls
    for name, pattern in _REGEX_CLASSES:
        if pattern.match(token):
            return name
    return None


# One of these after letters is always split off as its own token (unless the
# chunk is a special case such as "npr." or "dr."); checked on the whole corpus.
_TRAILING = frozenset(",.!?;:")


class SpacyText:
    """Tokens and time expressions of folded text in one language."""

    _CACHE_LIMIT = 200_000

    def __init__(self, language: str):
        self.language = language if language in SPACY_LANGUAGES else "xx"
        self._reset()

    def _reset(self) -> None:
        # spaCy's vocabulary keeps every string it has seen (order numbers, e-mail
        # addresses); a fresh pipeline now and then keeps a nightly run's memory flat.
        self.nlp = spacy.blank(self.language)
        self._special_cases = frozenset(self.nlp.tokenizer.rules)
        self.time_matcher = Matcher(self.nlp.vocab)
        self.time_matcher.add("TIME", TIME_PATTERNS)
        self._chunks: dict[str, tuple[str, ...]] = {}
        self._classes: dict[str, str | None] = {}
        # "2 dana", "do 14.30", "sutra ujutro": the same windows come back all night.
        self._windows: dict[tuple[str, ...], bool] = {}

    def tokens(self, text: str) -> list[str]:
        """spaCy's tokens of ``text``, without whitespace tokens."""
        if len(self._chunks) > self._CACHE_LIMIT or len(self._windows) > self._CACHE_LIMIT:
            self._reset()
        get = self._chunks.get
        out: list[str] = []
        for chunk in text.split():
            toks = get(chunk)
            out.extend(toks if toks is not None else self._chunk_tokens(chunk))
        return out

    def _chunk_tokens(self, chunk: str) -> tuple[str, ...]:
        # A chunk of letters only or digits only has nothing for spaCy's prefix,
        # suffix and infix rules to split, so unless it is a special case ("dont"
        # -> "do", "nt") it is one token: asking spaCy would build a Doc and new
        # lexemes for the same answer.
        if (chunk.isalpha() or chunk.isdigit()) and chunk not in self._special_cases:
            toks = (chunk,)
        elif (chunk[-1] in _TRAILING and chunk[:-1].isalpha() and chunk[-2].islower()
              and chunk not in self._special_cases
              and chunk[:-1] not in self._special_cases):
            # "hvala," "sutra." "zasto?": spaCy splits the one trailing mark off.
            toks = (chunk[:-1], chunk[-1])
        else:
            toks = tuple(t.text for t in self.nlp.tokenizer(chunk))
        self._chunks[chunk] = toks
        for tok in toks:
            self._classify(tok)
        return toks

    def _classify(self, token: str) -> None:
        if token not in self._classes:
            cls = self._classes[token] = token_class(token)
            if cls:
                self.nlp.vocab[token].norm_ = cls

    def doc(self, tokens) -> Doc:
        return Doc(self.nlp.vocab, words=list(tokens))

    def has_time(self, tokens) -> bool:
        """Whether the tokens (from ``tokens``) hold a time expression ("in 2-3
        days", "do 14:30", "sutra", "divas dienas")."""
        classes = self._classes
        present = set(map(classes.get, tokens))
        if not present.isdisjoint(_SINGLE_TOKEN_MATCHES):
            return True
        if present.isdisjoint(_PARTNERS):
            return False
        for i, tok in enumerate(tokens):
            cls = classes.get(tok)
            # Every longer pattern holds a trigger token with at most four tokens
            # before it and one after, so matching that window finds what matching
            # the whole turn would (a test checks it), at a fraction of the cost.
            if cls in _PARTNERS:
                window = tokens[max(0, i - 4) : i + 2]
                # "dobar dan" holds a unit but nothing a pattern could pair it with.
                if _PARTNERS[cls].isdisjoint(map(classes.get, window)):
                    continue
                key = tuple(window)
                found = self._windows.get(key)
                if found is None:
                    found = self._windows[key] = bool(self.time_matcher(self.doc(window)))
                if found:
                    return True
        return False


def spacy_text(language: str | None) -> SpacyText:
    """One ``SpacyText`` per language (languages spaCy has no rules for share "xx")."""
    return _spacy_text(language if language in SPACY_LANGUAGES else "xx")


@lru_cache(maxsize=None)
def _spacy_text(language: str) -> SpacyText:
    return SpacyText(language)


class NameMatcher:
    """Finds the customer's name, inflected or vocative too ("Ivana", "Ivano",
    "Ivani"; "Jānis", "Jāni"), as spaCy tokens that start with a stem of it."""

    def __init__(self, stems: list[str], text: SpacyText):
        self.stems = tuple(stems)
        self.text = text
        self._matcher: Matcher | None = None

    def mark(self, folded: str, tokens: list[str], mark: str) -> tuple[list[str], bool]:
        """The tokens with every name token replaced by ``mark``, and whether any was."""
        if not self.stems or not any(s in folded for s in self.stems):
            return tokens, False
        if self._matcher is None:
            # Built on first need: most turns never name the customer.
            self._matcher = Matcher(self.text.nlp.vocab)
            self._matcher.add("NAME", [[{"LOWER": {"REGEX": rf"^{re.escape(s)}[a-z]{{0,3}}$"}}] for s in self.stems])
        # The pattern is one token long, so matching each candidate token alone
        # finds what matching the whole turn would.
        out = None
        for i, tok in enumerate(tokens):
            if tok.startswith(self.stems) and self._matcher(Doc(self._matcher.vocab, words=[tok])):
                out = out or list(tokens)
                out[i] = mark
        return (out, True) if out else (tokens, False)
