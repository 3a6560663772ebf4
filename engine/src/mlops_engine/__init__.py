"""The template's package, one folder per concern (each has a docstring saying what is there):

- ``pipeline/``: one module per DVC stage (pure cores) and derived ``features``;
- ``serving/``: the BentoML service, its request schema, the model store, the Bento;
- ``ci/``: the quality gate and the pull-request report;
- ``ct/``: drift checks, the retrain policy, retraining and the one retraining PR;
- ``onboarding/``: ``mlops init`` for your own table;
- ``commands/``: the ``mlops`` sub-commands: parse arguments, read and write files, call the
  above with typed values;
- shared: ``config`` (params.yaml, typed), ``contract`` (the data contract), ``storage``
  (atomic file I/O), ``params_file``, ``outputs``, ``git``, ``gh``, ``step_files``,
  ``credentials``.
"""
