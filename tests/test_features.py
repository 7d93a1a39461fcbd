"""Model inputs: the context markers each model sees, on hand-written turns."""

import re

from pipeline.features import conversation_input, turn_inputs


def test_agent_turn_inputs_carry_position_name_and_the_customers_mood(conv_factory):
    conv = conv_factory(
        [
            ("customer", "Zašto mi je račun DVOSTRUK?? Ne razumijem", ("negative", True)),
            ("agent", "Dobar dan, Ivana. Provjerit ću račun.", []),
            ("customer", "hvala", ("positive", False)),
            ("agent", "Riješeno, storno stiže do petka.", []),
        ],
        customer_name="Ivana Horvat", channel="chat",
    )
    (first, first_text), (last, last_text) = turn_inputs(conv, "agent")
    first_marks, first_words = first_text.split(" | ")
    assert first is conv.turns[1] and last is conv.turns[3]
    assert {"xxpos0", "xxhasname", "xxprevnegative", "xxprevfrustrated", "xxprevquestion", "xxchchat"} <= set(first_marks.split())
    # The vocative "Ivana" becomes the name marker; diacritics are folded; the
    # words are spaCy's tokens.
    assert first_words.startswith("dobar dan , xxname . provjerit cu racun . xxnext")
    last_marks = set(last_text.split(" | ")[0].split())
    assert {"xxlast", "xxprevpositive", "xxtime"} <= last_marks and "xxprevfrustrated" not in last_marks
    customer = turn_inputs(conv, "customer")
    assert "xxqexcl" in customer[0][1] and "xxcapswords" not in customer[0][1]


def test_agent_turn_inputs_end_with_how_the_customer_replied(conv_factory):
    conv = conv_factory(
        [
            ("customer", "internet ne radi", ("negative", False)),
            ("agent", "Vaš ONT nema PPPoE sesiju.", ["jargon"]),
            ("agent", "Resetirajte ga.", ["solution"]),
            ("customer", "Što je to ONT? Ugovor 4471.", ("neutral", False)),
            ("agent", "Modem od operatera. Još nešto?", ["explanation", "anything_else"]),
        ],
        channel="chat",
    )
    jargon, reset, closing = (text for _, text in turn_inputs(conv, "agent"))
    # Both turns before the customer's reply carry it: its mood, digits, question
    # and first words, prefixed so they never mix with the agent's own words.
    for text in (jargon, reset):
        words, reply = text.split(" | ")[1].split(" xxnext", 1)
        assert reply.split() == ["neutral", "xxnextdigit", "xxnextq", "nsto", "nje", "nto", "nont", "nugovor", "n4471"]
        assert "nont" not in words
    assert closing.endswith(" xxnonext")
    # Customer turns never carry the next turn.
    assert "xxnext" not in " ".join(text for _, text in turn_inputs(conv, "customer"))


def test_conversation_input_marks_the_agents_behaviours_and_the_ending(conv_factory):
    turns = [("customer", "paket nije stigao", ("negative", False))]
    turns += [("agent", f"provjeravam {i}", ["active_listening"]) for i in range(3)]
    turns += [("agent", "Kurir dolazi sutra, javit ćemo vam.", ["timeframe", "next_steps"]),
              ("customer", "ok hvala", ("neutral", False))]
    text = conversation_input(conv_factory(turns, channel="email"))
    # Behaviours of early turns and of the last four turns are told apart.
    words = text.split()
    assert words.count("xxbactive_listening") == 1 and words.count("end_xxbactive_listening") == 2
    assert "end_xxbtimeframe" in text and "end_xxbnext_steps" in text
    assert "end_kurir" in text and "end_paket" not in text and text.endswith("xxchemail")
    unlabelled = conv_factory([(s, t) for s, t, *_ in turns], channel="email")
    assert not re.search(r"\bxxb|end_xxb", conversation_input(unlabelled))
