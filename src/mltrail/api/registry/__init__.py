"""The API's registry routes: models, versions, requests, the registry trail, webhooks."""
