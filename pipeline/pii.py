"""PII redaction with checksum validation, so order numbers stay readable."""

from __future__ import annotations

import re
from collections import Counter

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "oib": "[OIB]",
    "jmbg": "[JMBG]",
    "personas_kods": "[PERSONAS_KODS]",
    "phone": "[PHONE]",
}

_SEVEN_DIGITS_RE = re.compile(r"\d(?:\D{0,3}\d){6}")


_NO_COUNTS: Counter = Counter()


_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_ACCOUNT_KEYWORD_RE = re.compile(
    r"(iban|račun|racun|рачун|konts|kontu|konta|account|acct|bankovni|tekući|tekuci|текући)", re.IGNORECASE
)
_CARD_RE = re.compile(r"(?<![\d])\d(?:[ \-]?\d){12,18}(?![\d])")
_DIGITS11_RE = re.compile(r"(?<![\d])\d{11}(?![\d])")
_DIGITS13_RE = re.compile(r"(?<![\d])\d{13}(?![\d])")
_PK_RE = re.compile(r"(?<![\d])\d{6}-?\d{5}(?![\d])")
_PHONE_KEYWORD_RE = re.compile(
    r"\b(tel|tel\.|phone|mobile|mob|mobitel|mobilni|telefon\w*|tālr\w*|talr\w*|тел|телефон\w*|мобилни)\b[^\d\n+]{0,12}(\+?\d[\d\s\-/.()]{6,16}\d)",
    re.IGNORECASE,
)
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+|00)?\d{1,3}?[ \-./]?\(?\d{1,4}\)?(?:[ \-./]?\d{2,4}){2,4}(?![\w])"
)
# A national id that fails its checksum is still someone's id when labelled as one.
_ID_KEYWORD_RE = re.compile(
    r"\b(oib|jmbg|јмбг|personas\s+kods|personas\s+kodu|personas\s+koda|p\.\s?k\.)(?:\b|(?<=\.))[^\d\n]{0,12}(\d[\d\s-]{9,14}\d)",
    re.IGNORECASE,
)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_GROUPED_CARD_RE = re.compile(r"^\d{4}([ \-])\d{4}\1\d{4}\1\d{4}$")


def _card_like(s: str) -> bool:
    # A number printed in the 4-4-4-4 card layout is a card even when mistyped;
    # a bare digit run must pass Luhn so order numbers stay readable.
    return luhn_ok(s) or bool(_GROUPED_CARD_RE.match(s))


def iban_ok(candidate: str) -> bool:
    s = candidate.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    rearranged = s[4:] + s[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def oib_ok(s: str) -> bool:
    """ISO 7064 MOD 11,10 check digit of the Croatian OIB."""
    if len(s) != 11 or not s.isdigit():
        return False
    a = 10
    for c in s[:10]:
        a = (a + int(c)) % 10 or 10
        a = (a * 2) % 11
    check = (11 - a) % 10
    return check == int(s[10])


def jmbg_ok(s: str) -> bool:
    if len(s) != 13 or not s.isdigit():
        return False
    d = [int(c) for c in s]
    dd, mm = int(s[0:2]), int(s[2:4])
    if not (1 <= dd <= 31 and 1 <= mm <= 12):
        return False
    w = [7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    m = 11 - sum(a * b for a, b in zip(w, d[:12])) % 11
    m = 0 if m > 9 else m
    return m == d[12]


def personas_kods_ok(s: str) -> bool:
    digits = s.replace("-", "")
    if len(digits) != 11 or not digits.isdigit():
        return False
    if digits.startswith("32"):
        return True  # post-2017 codes carry no birth date
    dd, mm = int(digits[0:2]), int(digits[2:4])
    if not (1 <= dd <= 31 and 1 <= mm <= 12):
        return False
    w = [1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = (1101 - sum(a * int(b) for a, b in zip(w, digits[:10]))) % 11
    return check == int(digits[10]) or "-" in s


class PiiRedactor:
    """Replaces PII with typed placeholders; returns the text and counts per type."""

    def __init__(self, types: list[str] | None = None):
        self.types = list(types) if types is not None else list(PLACEHOLDERS)

    def redact(self, text: str) -> tuple[str, Counter]:
        # Every kind but e-mail needs seven or more digits close together.
        has_digits = _SEVEN_DIGITS_RE.search(text) is not None
        if not has_digits and "@" not in text:
            return text, _NO_COUNTS
        counts: Counter = Counter()

        def sub(regex: re.Pattern, kind: str, check, s: str) -> str:
            def repl(m: re.Match) -> str:
                if check is None or check(m.group(0)):
                    counts[kind] += 1
                    return PLACEHOLDERS[kind]
                return m.group(0)

            return regex.sub(repl, s)

        t = set(self.types) if has_digits else set(self.types) & {"email"}
        if "email" in t:
            text = sub(_EMAIL_RE, "email", None, text)
        if "iban" in t:
            def iban_repl(m: re.Match) -> str:
                # A mistyped IBAN is still someone's account: redact it when the
                # text calls it an account, even if the check digits fail.
                before = m.string[max(0, m.start() - 30) : m.start()]
                if iban_ok(m.group(0)) or _ACCOUNT_KEYWORD_RE.search(before):
                    counts["iban"] += 1
                    return PLACEHOLDERS["iban"]
                return m.group(0)

            text = _IBAN_RE.sub(iban_repl, text)
        if "card" in t:
            text = sub(_CARD_RE, "card", _card_like, text)
        if t & {"oib", "jmbg", "personas_kods"}:
            def keyword_repl(m: re.Match) -> str:
                word = m.group(1).lower()
                kind = "oib" if word == "oib" else "jmbg" if word in ("jmbg", "јмбг") else "personas_kods"
                if kind not in t:
                    return m.group(0)
                counts[kind] += 1
                return m.group(0)[: m.start(2) - m.start(0)] + PLACEHOLDERS[kind]

            text = _ID_KEYWORD_RE.sub(keyword_repl, text)
        if "jmbg" in t:
            text = sub(_DIGITS13_RE, "jmbg", jmbg_ok, text)
        if "oib" in t:
            text = sub(_DIGITS11_RE, "oib", oib_ok, text)
        if "personas_kods" in t:
            text = sub(_PK_RE, "personas_kods", lambda s: "-" in s and personas_kods_ok(s), text)
        if "phone" in t:
            text = sub(_PHONE_RE, "phone", _looks_like_phone, text)

            def phone_keyword_repl(m: re.Match) -> str:
                if sum(c.isdigit() for c in m.group(2)) < 7:
                    return m.group(0)
                counts["phone"] += 1
                return m.group(0)[: m.start(2) - m.start(0)] + PLACEHOLDERS["phone"]

            text = _PHONE_KEYWORD_RE.sub(phone_keyword_repl, text)
        return text, counts


def _looks_like_phone(s: str) -> bool:
    digits = sum(c.isdigit() for c in s)
    if digits < 8 or digits > 15:
        return False
    stripped = s.strip()
    # Phone numbers start with a country or trunk prefix; bare long numbers are
    # order or ticket numbers, which auditors need to read.
    return stripped.startswith(("+", "00", "0", "(")) or (" " in stripped or "-" in stripped or "/" in stripped) and stripped[0] in "0+("
