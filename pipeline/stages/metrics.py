"""Conversation metrics: response times, handle time, counts, agent share of words."""

from __future__ import annotations

from ..records import Conversation
from .base import Stage, register


def _seconds(a, b) -> float:
    return round((b - a).total_seconds(), 3)


@register("metrics")
class ConversationMetrics(Stage):
    def __call__(self, batch: list[Conversation]) -> list[Conversation]:
        for conv in batch:
            conv.metrics = self.compute(conv)
        return batch

    @staticmethod
    def compute(conv: Conversation) -> dict:
        words = {"agent": 0, "customer": 0, "bot": 0, "system": 0}
        for t in conv.turns:
            words[t.speaker] += len(t.text.split())
        stamped = [t for t in conv.turns if t.timestamp is not None]
        first_customer = next((t for t in stamped if t.speaker == "customer"), None)
        first_agent = next((t for t in stamped if t.speaker == "agent"), None)
        start = first_customer.timestamp if first_customer else conv.started_at
        first_response = _seconds(start, first_agent.timestamp) if start and first_agent else None
        replies, waiting = [], None
        for t in stamped:
            if t.speaker == "customer" and waiting is None:
                waiting = t.timestamp
            elif t.speaker == "agent" and waiting is not None:
                replies.append(_seconds(waiting, t.timestamp))
                waiting = None
        begin = conv.started_at or (stamped[0].timestamp if stamped else None)
        handle = _seconds(min(begin, stamped[0].timestamp), stamped[-1].timestamp) if stamped and begin else None
        total_words = words["agent"] + words["customer"]
        return {
            "turns": len(conv.turns),
            "agent_turns": sum(t.speaker == "agent" for t in conv.turns),
            "customer_turns": sum(t.speaker == "customer" for t in conv.turns),
            "words": sum(words.values()),
            "agent_words": words["agent"],
            "customer_words": words["customer"],
            "agent_word_share": round(words["agent"] / total_words, 4) if total_words else None,
            "first_response_s": first_response,
            "reply_times_s": replies,
            "max_reply_s": max(replies) if replies else None,
            "mean_reply_s": round(sum(replies) / len(replies), 3) if replies else None,
            "handle_time_s": handle,
            "empty_turns_dropped": conv.empty_turns_dropped,
        }
