"""The contract every stage honours, checked on the real stages and shipped models."""

import copy
import pickle

import pytest

from pipeline.runner import build_stages
from pipeline.stages import STAGES, ModelStage


def _snapshot(convs):
    return pickle.dumps(convs)


@pytest.fixture(scope="module")
def stages(config):
    return build_stages(config)


def _prepared(stages, upto, convs):
    for stage in stages[:upto]:
        convs = stage(convs)
    return convs


def test_config_names_registered_stages_in_data_flow_order(config):
    assert config.stages == ["clean", "language", "sentiment", "frustration", "behaviours",
                             "conversation_labels", "checklist", "metrics"]
    assert set(config.stages) <= set(STAGES)


@pytest.mark.parametrize("position", range(8))
def test_stage_contract(stages, position, sample_conversations):
    stage = stages[position]
    batch = _prepared(stages, position, sample_conversations)
    ids = [c.conversation_id for c in batch]
    out = stage(batch)
    assert isinstance(out, list)
    assert [c.conversation_id for c in out] == ids, f"{stage.name} must keep order and membership"


@pytest.mark.parametrize("name", ["sentiment", "frustration", "behaviours", "conversation_labels", "checklist"])
def test_model_stage_predict_has_no_side_effects_and_batching_is_invisible(stages, name, sample_conversations):
    position = [s.name for s in stages].index(name)
    stage = stages[position]
    assert isinstance(stage, ModelStage)
    batch = _prepared(stages, position, sample_conversations)
    before = _snapshot(batch)
    stage.predict(batch)
    assert _snapshot(batch) == before, "predict() must not change the records"
    one_by_one = list(stage.pipe(copy.deepcopy(batch), batch_size=1))
    batched = list(stage.pipe(copy.deepcopy(batch), batch_size=64))
    assert _snapshot(one_by_one) == _snapshot(batched)


def test_annotations_are_filled_on_the_right_turns(stages, sample_conversations):
    convs = _prepared(stages, len(stages), sample_conversations)
    for conv in convs:
        for t in conv.turns:
            if t.speaker == "customer":
                assert t.sentiment in ("negative", "neutral", "positive")
                assert -1 <= t.sentiment_score <= 1 and 0 <= t.frustration_score <= 1
                assert not t.frustrated or t.sentiment == "negative"
                assert t.behaviours is None
            elif t.speaker == "agent":
                assert set(t.behaviour_scores) == set(stages[4].thresholds)
                assert all(0 <= v <= 1 for v in t.behaviour_scores.values())
            else:
                assert t.behaviours is None and t.sentiment is None
        assert len(conv.checklist) == 21
        assert 0 <= conv.qa_score <= 100


def test_learned_checklist_items_come_from_the_judgement_models(stages, conv_factory, checklist_config):
    # Written for this test: the customer asks two things, the agent answers
    # one, and the customer says so.
    half = conv_factory([
        ("customer", "Hi, my new phone arrived with a cracked screen. Can I get a replacement, and will you refund the express shipping I paid?"),
        ("agent", "Hello, sorry to hear that. I've arranged a replacement, it ships tomorrow and arrives in 2 working days."),
        ("customer", "ok but you didn't answer about the shipping refund. I paid 9.99 for express and it came broken"),
        ("agent", "The replacement will be sent by express as well."),
        ("customer", "that's still not an answer. forget it"),
    ], conversation_id="half-answered", language="en", channel="chat")
    half = _prepared(stages, len(stages), [half])[0]
    whole = conv_factory([
        ("customer", "hello, can I still change the delivery address for order 55120? I'm moving on Friday"),
        ("agent", "Hi! Yes, it hasn't shipped yet. What's the new address?"),
        ("customer", "Ulica Grada Vukovara 12, Zagreb"),
        ("agent", "Done, I've changed it to Ulica Grada Vukovara 12. It will arrive there on Monday."),
        ("customer", "perfect, thank you!"),
    ], conversation_id="answered", language="en", channel="chat")
    assert _prepared(stages, len(stages), [whole])[0].checklist["answer_all_questions"]["verdict"] == "pass"
    scorer = stages[[s.name for s in stages].index("checklist")]
    assert set(scorer.model_versions()) == {f"judgement_{i}" for i in checklist_config.learned_items()}
    assert half.checklist["answer_all_questions"]["verdict"] == "fail"
    assert set(scorer.model_versions()) <= set(half.models)
    for item in checklist_config.learned_items():
        v = half.checklist[item]
        assert v["verdict"] in ("pass", "fail", "na") and 1 / 3 <= v["confidence"] <= 1
        assert v["verdict"] != "na" or v["evidence"] == []


def test_without_judgement_models_the_checklist_is_the_rules(stages, sample_conversations, checklist_config):
    from pipeline.checklist_rules import ChecklistRules
    from pipeline.stages.checklist import ChecklistScorer

    position = [s.name for s in stages].index("checklist")
    batch = _prepared(stages, position, sample_conversations)
    rules_only = ChecklistScorer(checklist_config)(copy.deepcopy(batch))
    rules = ChecklistRules(checklist_config)
    for conv, scored in zip(batch, rules_only):
        assert scored.checklist == rules.evaluate(conv)
