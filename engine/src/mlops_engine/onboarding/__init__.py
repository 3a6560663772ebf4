"""Bring your own data: ``mlops init`` infers a data contract and the task's defaults from
a table (``infer_contract``), then switches the project to it.
"""
