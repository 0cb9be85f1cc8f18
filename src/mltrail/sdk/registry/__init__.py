"""``mltrail.models``: register, promote, approve and load models, embedded or through a server."""
