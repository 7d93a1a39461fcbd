"""Training and evaluation of convaudit's models."""
