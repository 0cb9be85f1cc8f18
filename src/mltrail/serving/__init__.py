"""The deployment gateway (``mltrail serve``): a FastAPI app answering one deployment's predictions.

``app.create_gateway_app`` builds it; ``gateway.Gateway`` does the work without HTTP: ``variants`` loads
the models through ``mltrail.models.load`` (verified by digest), ``rules`` holds the pure decisions (canary
bucket, guards, fallback rules, output rules), ``shadow`` runs shadow copies on their own threads,
``recorder`` batches every request into the deployment's monitor, ``metrics`` renders Prometheus text.
"""
