"""Language of each conversation: the given field, else detection."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from ..config import LanguageConfig, PipelineConfig
from ..records import Conversation
from ..text import fold_diacritics, has_cyrillic
from .base import Stage, register

log = logging.getLogger(__name__)

# Words that separate the close South Slavic standards where detectors struggle:
# Serbian ekavian forms, Croatian month names and vocabulary.
_SR_MARKERS = re.compile(
    r"\b(gde|lep\w*|deca|dece|mleko|vreme\w*|uvek|ovde|hteo|htela|nedelj\w*|hiljad\w*|dve|cena|cene|ceni|"
    r"proveri\w*|proverava\w*|primeti\w*|reklamacij\w*|dinar\w*|rsd|šta|sta|ćemo|bre|kol'ko|desilo|"
    r"voz|kafa|hleb|pozovite|razumem|izvinite|uspeo|uspela|zaposlen\w*|obaveštenj\w*|obavestenj\w*)\b",
    re.IGNORECASE,
)
_HR_MARKERS = re.compile(
    r"\b(gdje|lijep\w*|djeca|djece|mlijeko|vrijeme\w*|uvijek|ovdje|htio|htjela|tjed\w*|tisuć\w*|tisuc\w*|dvije|cijen\w*|"
    r"provjer\w*|primijet\w*|reklamacij\w*|što|sto|kaj|vlak|kruh|nazovite|razumijem|ispričavam|ispricavam|uspio|uspjela|"
    r"obavijest\w*|siječ\w*|veljač\w*|ožuj\w*|travanj\w*|svib\w*|lipanj\w*|srpanj\w*|kolovoz\w*|rujan\w*|"
    r"listopad\w*|studen\w*|prosin\w*|kn|kuna|kune)\b",
    re.IGNORECASE,
)
_LV_CHARS = set("āēīūķļņģĀĒĪŪĶĻŅĢ")


@lru_cache(maxsize=4)
def _detector(codes: tuple[str, ...]):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    langs = [IsoCode639_1.from_str(c) for c in codes]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*langs).with_low_accuracy_mode().build()


@register("language")
class LanguageIdentifier(Stage):
    def __init__(self, config: LanguageConfig | None = None):
        self.config = config or LanguageConfig()

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "LanguageIdentifier":
        return cls(config.language)

    def detect(self, text: str) -> str:
        sample = text[:2000]
        if has_cyrillic(sample):
            return "sr"
        if any(c in _LV_CHARS for c in sample):
            return "lv"
        try:
            lang = _detector(tuple(self.config.detect)).detect_language_of(sample)
        except Exception:  # the detector is optional help; never fail a run on it
            log.warning("language detection failed; using fallback %s", self.config.fallback)
            lang = None
        code = lang.iso_code_639_1.name.lower() if lang is not None else self.config.fallback
        if code in ("hr", "sr", "bs"):
            folded = fold_diacritics(sample)
            sr, hr = len(_SR_MARKERS.findall(folded)) + len(_SR_MARKERS.findall(sample)), len(_HR_MARKERS.findall(folded)) + len(_HR_MARKERS.findall(sample))
            if sr > hr:
                code = "sr"
            elif hr > sr:
                code = "hr"
        return code

    def __call__(self, batch: list[Conversation]) -> list[Conversation]:
        for conv in batch:
            if conv.language:
                conv.language_source = "input"
                continue
            text = " ".join(t.text for t in conv.turns if t.speaker in ("customer", "agent"))
            conv.language = self.detect(text)
            conv.language_source = "detected"
        return batch
