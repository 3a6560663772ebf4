"""The dependency canary (``mlops canary``, ``mlops canary-report``; the weekly canary.yml):
the project on the newest releases of its dependencies, ahead of Dependabot, and one GitHub
issue that says which upgrade breaks what (``upgrade.py``). Not pull-request CI: it judges
no change of the project, only the world's releases moving under it."""
