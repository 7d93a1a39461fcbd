"""Label ids of ``shared/labels.md`` (sections 1-3).

Checklist item ids are not here: they live in ``configs/checklist.yaml``.
"""

SENTIMENTS = ("negative", "neutral", "positive")

BEHAVIOURS = (
    "greeting",
    "empathy_apology",
    "uses_name",
    "active_listening",
    "explanation",
    "solution",
    "alternative",
    "timeframe",
    "next_steps",
    "education",
    "anything_else",
    "thanks",
    "additional_support",
    "feedback_request",
    "blame",
    "negative_tone",
    "jargon",
)

CATEGORIES = (
    "billing",
    "delivery",
    "technical",
    "account",
    "product_info",
    "returns_refunds",
    "cancellation",
    "complaint",
    "other",
)

RESOLUTIONS = ("resolved", "pending", "escalated", "unresolved")

SPEAKERS = ("agent", "customer", "bot", "system")
CHANNELS = ("chat", "email", "phone", "social")
VERDICTS = ("pass", "fail", "na")

# The tasks with a model of their own; learned checklist items add one each.
MODEL_TASKS = ("sentiment", "frustration", "behaviours", "category", "resolution")

# Help-desk exports name the two parties in many ways; these are the ones seen in practice.
SPEAKER_SYNONYMS = {
    "agent": "agent",
    "operator": "agent",
    "advisor": "agent",
    "adviser": "agent",
    "rep": "agent",
    "representative": "agent",
    "support": "agent",
    "staff": "agent",
    "human_agent": "agent",
    "customer": "customer",
    "client": "customer",
    "user": "customer",
    "visitor": "customer",
    "caller": "customer",
    "guest": "customer",
    "consumer": "customer",
    "end_user": "customer",
    "bot": "bot",
    "chatbot": "bot",
    "virtual_agent": "bot",
    "va": "bot",
    "ivr": "bot",
    "assistant": "bot",
    "system": "system",
    "automated": "system",
    "auto": "system",
}
