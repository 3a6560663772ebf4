"""What runs on a schedule or on demand and talks to GitHub through a pull request: for
now the template update (``template_update``), which opens its PR with the retraining
PR's machinery (``mlops_engine.ct.proposal``)."""
