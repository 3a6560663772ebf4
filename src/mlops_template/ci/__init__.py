"""Pull-request checks: the quality gate against the base branch (``gate``), what the gate
compares with (``champion``: the base's model, re-scored when the test split moved), the
report's rendering (``report``) and the gathering of its inputs (``report_inputs``), which
the retraining PR reuses.
"""
