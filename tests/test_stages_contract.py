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


@pytest.mark.parametrize("name", ["sentiment", "frustration", "behaviours", "conversation_labels"])
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
