"""Production monitoring: monitors, ingestion into windows, drift, validation, performance, alerts,
reports."""
