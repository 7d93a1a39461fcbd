"""convaudit: audit customer-service conversations against a QA checklist."""

__version__ = "0.1.0"
