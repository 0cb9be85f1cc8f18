"""mltrail: experiment tracking, model registry, deployment and monitoring on one trail."""
__version__ = "0.1.0"
