"""spaCy tokens and Matcher patterns, on the sample transcripts and hand-written turns."""

import pytest

from pipeline.features import folded_text, name_stems
from pipeline.spacy_text import NameMatcher, spacy_text


def _sample_turns(sample_conversations):
    return [(c.language, folded_text(t.text)) for c in sample_conversations for t in c.turns]


def test_chunk_cached_tokens_equal_spacys_tokens_of_the_whole_text(sample_conversations):
    turns = _sample_turns(sample_conversations)
    assert len(turns) > 100
    for language, text in turns:
        st = spacy_text(language)
        expected = [t.text for t in st.nlp.tokenizer(text) if not t.is_space]
        assert st.tokens(text) == expected, text


@pytest.mark.parametrize("language,text", [
    ("en", "i dont know, cant log in. e.g. the app... 24h? re: it's (again) e-mail:x@y.com"),
    ("en", "etm\u02c6. caf\u00e9, ok!! ok?! :) 5. 10km 3rd"),
    ("hr", "npr. dr. tj. ono, kaj? di si!! 5. rujna"),
    ("lv", "piem. utt. t.i. labi; paldies: 14.30"),
    ("sr", "npr. itd. ok, hvala..."),
])
def test_shortcuts_agree_with_spacy_on_abbreviations_and_punctuation(language, text):
    st = spacy_text(language)
    assert st.tokens(text) == [t.text for t in st.nlp.tokenizer(text) if not t.is_space]


def test_time_windows_find_what_matching_the_whole_turn_finds(sample_conversations):
    found = 0
    for language, text in _sample_turns(sample_conversations):
        st = spacy_text(language)
        tokens = st.tokens(text)
        whole = bool(st.time_matcher(st.doc(tokens))) if tokens else False
        assert st.has_time(tokens) == whole, text
        found += whole
    assert found >= 5


@pytest.mark.parametrize("language,text", [
    ("en", "it should arrive in 2-3 working days"),
    ("en", "an engineer will ring you by the end of the week"),
    ("en", "i'll call you back at 5 pm"),
    ("en", "we will send it within forty eight hours"),
    ("hr", "paket stize sutra izmedju 9:00 i 12:00"),
    ("hr", "povrat sredstava traje pet radnih dana"),
    ("hr", "javit cemo se do kraja tjedna"),
    ("sr", "tehnicar dolazi u 14.30"),
    ("sr", "resenje ocekujte za dva do tri dana"),
    ("lv", "kurjers piegadas 3 darba dienu laika"),
    ("lv", "atbildesim lidz menesa beigam"),
    ("lv", "piezvanisim jums rit"),
])
def test_time_expressions_are_found(language, text):
    st = spacy_text(language)
    assert st.has_time(st.tokens(text))


@pytest.mark.parametrize("language,text", [
    ("en", "your order 448120 has two items"),
    ("en", "the total was 12.50 with vat"),
    ("hr", "narudzba 2 artikla, cijena 19.99 eur"),
    ("sr", "posaljite mi broj ugovora"),
    ("lv", "rekina summa ir 45 eiro"),
])
def test_numbers_without_a_time_unit_are_not_time_expressions(language, text):
    st = spacy_text(language)
    assert not st.has_time(st.tokens(text))


def test_name_matcher_finds_inflected_and_vocative_forms():
    st = spacy_text("lv")
    names = NameMatcher(name_stems("Jānis Bērziņš"), st)
    for form in ("labdien, jani!", "paldies, janim", "berzina kungs"):
        tokens, found = names.mark(form, st.tokens(form), "xxname")
        assert found and "xxname" in tokens, form
    tokens, found = names.mark("labdien, juri", st.tokens("labdien, juri"), "xxname")
    assert not found and tokens == ["labdien", ",", "juri"]
    assert name_stems(None) == []


def test_languages_without_spacy_rules_share_the_multilingual_tokenizer():
    assert spacy_text("de").language == "xx" and spacy_text(None) is spacy_text("xx")
