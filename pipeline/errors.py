"""The one catalogue of user-facing error messages.

Every message the CLI shows for a failure, and every reject reason written to
``rejects.jsonl``, is defined here so wording stays consistent and translatable.
"""

MESSAGES = {
    # Run-stopping problems (the CLI prints one line and exits non-zero).
    "input_missing": "Input path does not exist: {path}",
    "input_empty": "No input files found under {path} (looked for .jsonl, .jsonl.gz, .csv, .parquet).",
    "input_format": "Unsupported input file type: {path} (expected .jsonl, .jsonl.gz, .csv or .parquet).",
    "config_missing": "Config file not found: {path}",
    "config_unreadable": "Config file {path} is not valid YAML: {detail}",
    "config_invalid": "Config file {path} is invalid: {detail}",
    "model_missing": "Model artifact for task '{task}' not found at {path}. Train one with `convaudit train` or fix the path in the config.",
    "model_load": "Model artifact {path} could not be loaded: {detail}",
    "model_untrusted": "Model artifact {path} contains types that are not on the trusted list: {types}",
    "nothing_processed": "No conversation could be processed ({rejected} rejected). See {rejects}.",
    "no_labels": "No labelled conversations found in {paths}.",
    "model_worse": "The new model is worse than the existing one at {path} on {metrics}; use --force to overwrite.",
    "unknown_stage": "Unknown stage '{name}' in the pipeline config. Known stages: {known}.",
    "output_not_dir": "Output path exists and is not a directory: {path}",
    "long_format_columns": "Long-format file {path} lacks required columns: {missing}",
    "dask_missing": "The dask engine needs dask[distributed]; install it with `pip install 'dask[distributed]'`.",
    # Reject reasons (the conversation is skipped, the run continues).
    "reject_json": "malformed JSON: {detail}",
    "reject_not_object": "record is not a JSON object",
    "reject_no_id": "missing or non-string conversation_id",
    "reject_no_turns": "conversation has no turns",
    "reject_turns_type": "'turns' is not a list",
    "reject_turn_type": "turn {index} is not an object",
    "reject_speaker": "turn {index} has unknown speaker {speaker!r}",
    "reject_text": "turn {index} has non-string text ({type})",
    "reject_timestamp": "turn {index} has an invalid timestamp {value!r}",
    "reject_started_at": "invalid started_at {value!r}",
    "reject_duplicate": "duplicate conversation_id (first seen in {first})",
    "reject_all_empty": "every turn is empty after cleaning",
    "reject_stage": "stage '{stage}' failed: {detail}",
    "reject_row": "row {row} of a long-format file is malformed: {detail}",
}


class ConvauditError(Exception):
    """An error the user can act on; ``str()`` is the catalogue message."""

    def __init__(self, key: str, **params):
        self.key = key
        self.params = params
        super().__init__(MESSAGES[key].format(**params))


def message(key: str, **params) -> str:
    return MESSAGES[key].format(**params)
