"""Simple baselines the trained models must beat: keywords and VADER."""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.text import fold_diacritics, transliterate_cyrillic

# A keyword baseline as a QA team would write it in a spreadsheet: obvious
# phrases per behaviour in the four languages, matched on folded text.
KEYWORDS: dict[str, str] = {
    "greeting": r"\b(hello|hi|good (morning|afternoon|evening)|welcome|my name is|this is \w+|dobar dan|dobro jutro|dobra vecer|dobro vece|zdravo|pozdrav|bok|ovdje|ovde|moje ime|labdien|labrit|sveiki|cau|mani sauc)\b",
    "empathy_apology": r"\b(sorry|apolog\w*|understand|frustrat\w*|inconvenience|zao mi je|ispricavam|izvinite|izvinjavam|oprostite|razumijem|razumem|atvainoj\w*|piedod\w*|saprotu|nozelo\w*)\b",
    "uses_name": r"\b(mr|mrs|ms|miss|gospodin\w*|gospodj\w*|gospod\w*|kungs|kundze|kundzi)\b",
    "active_listening": r"(\?|\b(could you|can you tell|mozete li|mozes li|da li mozete|vai varat|vai jus)\b)",
    "explanation": r"\b(because|due to|the reason|that's why|zato sto|jer|zbog|razlog|tapec|jo|del|iemesls)\b",
    "solution": r"\b(i('ve| have) (reset|sent|refunded|fixed|changed|updated)|resolved|fixed|rijesen\w*|resen\w*|poslao|poslala|poslat\w*|atrisin\w*|nosutij\w*|izlabo\w*)\b",
    "alternative": r"\b(alternative\w*|instead|another option|or we can|umjesto|umesto|druga opcija|alternativ\w*|vietā|vieta|cits variants)\b",
    "timeframe": r"\b(\d+\s*(minutes?|hours?|days?|working days|min|sati|dana|radnih dana|stundu|stundam|dienu|dienam|darba dienu)|today|tomorrow|danas|sutra|sodien|rit)\b",
    "next_steps": r"\b(you will receive|you'll receive|next step|will contact you|dobit cete|dobicete|primit cete|kontaktirat|javit ce|sanemsiet|sazinasimies)\b",
    "education": r"\b(guide|faq|help centre|help center|in the app|settings|upute|uputstvo|postavke|podesavanja|instrukcij\w*|iestatijum\w*|lietotne)\b",
    "anything_else": r"\b(anything else|something else|jos nesto|jos nesto|jos neko|jos kakvo|vel kaut ko|vel ka|vel ar ko|vel kadi|vel kas)\b",
    "thanks": r"\b(thank|thanks|hvala|zahvaljujem|paldies|pateicamies)\b",
    "additional_support": r"\b(escalat\w*|call you back|technical team|supervisor|proslijedi\w*|prosledi\w*|eskal\w*|nazvat|pozvati|atzvan\w*|nodo\w*)\b",
    "feedback_request": r"\b(rate|rating|survey|feedback|ocijen\w*|ocen\w*|anket\w*|novert\w*|aptauj\w*)\b",
    "blame": r"\b(your fault|you should have|you didn't|vasa greska|vasa krivnja|trebali ste|jusu vaina|jums vajadzeja)\b",
    "negative_tone": r"\b(not my problem|calm down|nije moj problem|smirite se|tas nav mana problema|nomierinieties)\b",
    "jargon": r"\b(dns|ont|pppoe|mtu|api|ssid|imei|sepa|swift|bic|3ds|chargeback|vlan|dhcp|sim pin|puk|ip adres\w*)\b",
}
_COMPILED = {k: re.compile(v) for k, v in KEYWORDS.items()}


def keyword_behaviours(text: str) -> list[str]:
    folded = fold_diacritics(transliterate_cyrillic(text).lower())
    return [b for b, rx in _COMPILED.items() if rx.search(folded)]


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_compound(text: str) -> float:
    return _vader().polarity_scores(text)["compound"]


def vader_sentiment(text: str) -> str:
    c = vader_compound(text)
    return "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"


def vader_frustrated(text: str) -> bool:
    return vader_compound(text) <= -0.5
