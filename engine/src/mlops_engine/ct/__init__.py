"""Continuous training, in the order the nightly workflow runs it: ``replay`` (the demo
production stream), ``drift`` (Evidently checks of one window, pure), ``policy`` (drift ->
retrain decision, pure), ``monitor`` (the nightly check's I/O: production rows in, reports
out), ``challenger`` (feedback rows, the moved window, champion vs challenger, pure),
``retrain`` (its I/O: feedback file, params, ``dvc repro``, PR body), ``proposal`` (the one
retraining PR: git and ``gh``) and ``schedule`` (how long ago the check last ran).
"""
