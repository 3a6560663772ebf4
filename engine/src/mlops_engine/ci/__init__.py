"""Pull-request checks: the quality gate against the base branch (``gate``), what the gate
compares with (``champion``: the base's model, re-scored when the test split moved) and the
report (``report`` gathers its inputs, ``markdown`` renders them), which the retraining PR
reuses.
"""
