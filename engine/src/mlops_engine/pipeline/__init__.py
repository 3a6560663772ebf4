"""The DVC pipeline: one module per stage in ``dvc.yaml``, each a pure core function.

``ingest``, ``validate``, ``split``, ``train``, ``reference`` and ``evaluate`` are the stages
(``commands/stages.py`` wraps each in file I/O); ``features`` holds derived columns, applied
inside the fitted pipeline so training and serving share them; ``baseline``, ``metrics``,
``plots`` and ``leakage`` are what the stages use; ``summary`` is what ``make run`` prints and
``reproduce`` is ``dvc repro`` with a DVC remote. To add a stage: a module here, a command in
``commands/stages.py``, an entry in ``dvc.yaml`` (its ``deps`` are checked against what the
command imports by ``tests/repo/test_stage_deps.py``) and its test.
"""
