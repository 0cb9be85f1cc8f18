"""``/api/v1/projects/{project}/reports``: stakeholder reports."""
