"""``mltrail reports``: stakeholder reports."""
