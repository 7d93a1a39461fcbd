"""Cleaning: Unicode repair, HTML, e-mail quotes and signatures, whitespace, PII."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter

import ftfy

from ..config import CleanConfig, PipelineConfig
from ..pii import PiiRedactor
from ..records import Conversation
from ..text import html_to_text, normalise_whitespace, strip_email_quotes, strip_signature, transliterate_cyrillic
from .base import Stage, register

log = logging.getLogger(__name__)

# Sequences that only appear when UTF-8 was decoded as Latin-1/Windows-1252;
# checking for them first keeps ftfy off the hot path for clean text.
_MOJIBAKE_RE = re.compile("[ÃÄÅÐÑĹÂ]|â€")


@register("clean")
class TranscriptCleaner(Stage):
    def __init__(self, config: CleanConfig | None = None):
        self.config = config or CleanConfig()
        self.redactor = PiiRedactor(self.config.pii_types) if self.config.redact_pii else None

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "TranscriptCleaner":
        return cls(config.clean)

    def clean_text(self, text: str, channel: str | None) -> tuple[str, Counter]:
        if self.config.fix_mojibake and not text.isascii() and _MOJIBAKE_RE.search(text):
            text = ftfy.fix_text(text)
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        text = html_to_text(text)
        if channel == "email" or "\n>" in text or text.startswith(">"):
            if self.config.strip_email_quotes:
                text = strip_email_quotes(text)
            if self.config.strip_signatures and channel == "email":
                text = strip_signature(text)
        text = normalise_whitespace(text)
        counts: Counter = Counter()
        if self.redactor is not None:
            text, counts = self.redactor.redact(text)
        return text, counts

    def __call__(self, batch: list[Conversation]) -> list[Conversation]:
        for conv in batch:
            kept = []
            redacted: Counter = Counter()
            for turn in conv.turns:
                text, counts = self.clean_text(turn.text, conv.channel)
                if counts:
                    redacted.update(counts)
                if not text:
                    conv.empty_turns_dropped += 1
                    continue
                turn.text = text
                turn.model_text = transliterate_cyrillic(text)
                kept.append(turn)
            conv.turns = kept
            conv.pii_redacted = dict(redacted)
            if conv.customer_name and self.redactor is not None:
                # The name stays usable for matching but must not carry PII itself.
                conv.customer_name, _ = self.redactor.redact(conv.customer_name)
        return batch
