"""The API's monitoring routes: monitors, prediction and label ingestion, reports, alerts."""
