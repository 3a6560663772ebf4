"""Bring your own data: ``mlops init`` infers a data contract and the task's defaults from
a table (``inference``), then switches the project to it.
"""
