"""Model inputs: a turn's normalised text plus context markers.

The models only see strings, so conversation context (turn position, the
customer's previous mood and reply, the customer's name, time expressions,
shouting) is written into the string as marker tokens. A linear model and a
transformer can therefore be swapped without changing any stage. The words are
spaCy's tokens of the folded text, and time expressions and the customer's name
are found by spaCy's ``Matcher`` (``spacy_text``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .records import Conversation, Turn
from .spacy_text import NameMatcher, spacy_text
from .text import fold_diacritics

NAME_MARK = "xxname"
_EMOJI_RE = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_NEG_EMOJI = set("🙄😡😠🤬😤😒😞😩😫👎💩😑😣😖")
_POS_EMOJI = set("🙂😊😀😃😄😁👍🙏❤😍🥰👌✅🎉😉")
# Words of the customer's reply that an agent turn's input carries.
_REPLY_WORDS = 12
_NO_REPLY = " xxnonext"


def _cue_markers(text: str) -> list[str]:
    marks = []
    letters = sum(map(str.isalpha, text))
    if letters >= 8 and sum(map(str.isupper, text)) / letters > 0.6:
        marks.append("xxshout")
    words = text.split()
    if sum(len(w) >= 4 and w.isupper() for w in words) >= 2:
        marks.append("xxcapswords")
    if "!!" in text:
        marks.append("xxexcl")
    if "??" in text or "?!" in text or "!?" in text:
        marks.append("xxqexcl")
    if "?" in text:
        marks.append("xxquestion")
    for c in (_EMOJI_RE.findall(text) if not text.isascii() else ()):
        if c in _NEG_EMOJI:
            marks.append("xxemojineg")
        elif c in _POS_EMOJI:
            marks.append("xxemojipos")
    if "..." in text or "…" in text:
        marks.append("xxellipsis")
    return marks


@lru_cache(maxsize=50_000)
def folded_text(raw: str) -> str:
    """Lower-case text with diacritics folded; several stages ask for the same turn."""
    return fold_diacritics(raw.lower())


@lru_cache(maxsize=50_000)
def _text_features(raw: str, language: str | None) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Folded text, its spaCy tokens and the cue markers of one turn."""
    folded = folded_text(raw)
    text = spacy_text(language)
    tokens = text.tokens(folded)
    marks = _cue_markers(raw)
    if text.has_time(tokens):
        marks.append("xxtime")
    return folded, tuple(tokens), tuple(marks)


def _words(tokens) -> list[str]:
    return [t for t in tokens if t.isalnum()]


def name_stems(name: str | None) -> list[str]:
    """Stems of the customer's first and last names, so inflected and vocative
    forms (Ivana, Ivano, Ivani; Jānis, Jāni) still match."""
    if not name:
        return []
    stems = []
    for part in re.split(r"[\s\-]+", fold_diacritics(name).lower()):
        part = re.sub(r"[^a-z]", "", part)
        if len(part) >= 3:
            stems.append(part[:-2] if len(part) >= 6 else part[:-1] if len(part) >= 4 else part)
    return stems


def turn_inputs(conv: Conversation, speaker: str) -> list[tuple[Turn, str]]:
    """(turn, model input) for every turn of ``speaker`` in the conversation.

    Context that comes from earlier stages (the customer's sentiment) is read from
    the turns, so the function serves gold labels at training time and predictions
    at run time alike.

    More context did not help, measured on writers the models never saw: the
    previous customer turn's first 12 words after an agent turn (behaviours,
    trained without the fifth-round writers and tested on them: micro-F1 0.864 ->
    0.862); after a customer turn, the previous agent turn's first 12 words
    (frustration, 5-fold CV grouped by writer: F1 0.823 -> 0.817), or markers for
    repeating an earlier customer turn and for the customer's turn count (0.823 ->
    0.823).
    """
    names = NameMatcher(name_stems(conv.customer_name), spacy_text(conv.language))
    role_turns = [t for t in conv.turns if t.speaker == speaker]
    n = len(role_turns)
    out = []
    prev_customer: Turn | None = None
    replies = _reply_contexts(conv) if speaker == "agent" else {}
    k = 0
    for t in conv.turns:
        if t.speaker == "customer" and speaker != "customer":
            prev_customer = t
            continue
        if t.speaker != speaker:
            continue
        folded, tokens, cues = _text_features(t.model_text or t.text, conv.language)
        marks = list(cues)
        tokens, has_name = names.mark(folded, tokens, NAME_MARK)
        if n == 1:
            # A lone turn is both first and last; saying so separately keeps the
            # position cues of multi-turn conversations from misleading the model.
            marks.append("xxonly")
        else:
            marks.append(f"xxpos{min(k, 3)}")
            if k >= n - 3:
                marks.append("xxlast3")
            if k == n - 1:
                marks.append("xxlast")
        if speaker == "agent" and prev_customer is not None:
            if prev_customer.sentiment:
                marks.append(f"xxprev{prev_customer.sentiment}")
            if prev_customer.frustrated:
                marks.append("xxprevfrustrated")
            if "?" in (prev_customer.model_text or prev_customer.text):
                marks.append("xxprevquestion")
        if has_name:
            marks.append("xxhasname")
        if conv.channel:
            marks.append(f"xxch{conv.channel}")
        text = " ".join(marks) + " | " + " ".join(tokens)
        if speaker == "agent":
            text += replies.get(t.index, _NO_REPLY)
        out.append((t, text))
        k += 1
    return out


def _reply_contexts(conv: Conversation) -> dict[int, str]:
    """Per agent turn index, the context of the customer turn that follows it;
    several agent turns in a row share one reply, built once."""
    out: dict[int, str] = {}
    waiting: list[int] = []
    for t in conv.turns:
        if t.speaker == "agent":
            waiting.append(t.index)
        elif t.speaker == "customer" and waiting:
            context = _reply_context(t, conv.language)
            out.update((i, context) for i in waiting)
            waiting = []
    return out


def _reply_context(reply: Turn, language: str | None) -> str:
    """How the customer answered an agent turn, written after the turn's words.

    The reply shows what the turn did: a customer who asks what a term means was
    given jargon, one who sends a number was asked a question, one who thanks got
    a solution. Marker tokens say the reply's mood (from the sentiment stage, or
    gold labels in training), whether it holds digits or a question, and its first
    words come prefixed with ``n``. Behaviours, 3-fold grouped CV on the first
    1,800 corpus conversations: micro-F1 0.817 -> 0.824, macro 0.799 -> 0.815
    (jargon 0.60 -> 0.74, blame 0.71 -> 0.74, negative_tone 0.52 -> 0.60,
    active_listening 0.85 -> 0.87); 6, 12 and 30 reply words gave 0.824, 0.824 and
    0.821. Trained on round 1, tested on round 2's other writers: 0.805 -> 0.813.
    An agent turn no customer turn follows gets ``_NO_REPLY``."""
    raw = reply.model_text or reply.text
    marks = [f"xxnext{reply.sentiment}"] if reply.sentiment else []
    if any(map(str.isdigit, raw)):
        marks.append("xxnextdigit")
    if "?" in raw:
        marks.append("xxnextq")
    words = _words(_text_features(raw, language)[1])[:_REPLY_WORDS]
    return " " + " ".join(marks + ["n" + w for w in words])


def conversation_input(conv: Conversation) -> str:
    """One string for the conversation-level models (category, resolution): the
    customer's first turns say what it is about, the last turns how it ended.

    The agent's behaviours (from the behaviours stage, or gold labels at training
    time) are written in as markers: a timeframe or next steps near the end tells
    a pending case from a resolved one better than the words alone (resolution,
    5-fold grouped CV with predicted behaviours in the test folds: 0.753 -> 0.779;
    category unchanged)."""
    parts = []
    turns = [t for t in conv.turns if t.speaker in ("customer", "agent")]
    last_start = max(0, len(turns) - 4)
    for i, t in enumerate(turns):
        tokens = _text_features(t.model_text or t.text, conv.language)[1]
        text = " ".join(tokens)
        tag = "xxc" if t.speaker == "customer" else "xxa"
        behaviours = (t.behaviours or ()) if t.speaker == "agent" else ()
        if i >= last_start:
            # Resolution is decided at the end: mark those words apart.
            tail = " ".join(f"end_{w}" for w in _words(tokens)[:60])
            marks = " ".join(f"end_xxb{b}" for b in behaviours)
            parts.append(f"{tag} {text} {tail} {marks}".rstrip())
        else:
            marks = " ".join(f"xxb{b}" for b in behaviours)
            parts.append(f"{tag} {text} {marks}".rstrip())
    if conv.channel:
        parts.append(f"xxch{conv.channel}")
    return " ".join(parts)
