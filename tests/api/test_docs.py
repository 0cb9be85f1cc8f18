"""/api/docs works offline: the page loads Swagger UI from the server itself, never from a CDN."""

from __future__ import annotations

import re

from live_server import TestClient


def _asset_urls(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", page) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", page
    )


def test_the_docs_page_uses_only_local_urls_that_answer(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "http://" not in page and "https://" not in page and "//cdn" not in page, page
    urls = _asset_urls(page)
    assert "/api/v1/openapi.json" in urls, page
    js = [u for u in urls if u.endswith(".js")]
    css = [u for u in urls if u.endswith(".css")]
    assert js == ["/api/docs/assets/swagger-ui-bundle.js"], urls
    assert css == ["/api/docs/assets/swagger-ui.css"], urls
    assert '"validatorUrl": null' in page  # no badge from the public validator

    script = client.get(js[0])
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text[:2000] and len(script.content) > 500_000
    style = client.get(css[0])
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert ".swagger-ui" in style.text
    favicon = client.get("/api/docs/assets/favicon.png")
    assert favicon.status_code == 200 and favicon.content.startswith(b"\x89PNG")
    assert client.get("/api/v1/openapi.json").json()["openapi"].startswith("3.")


def test_the_docs_assets_are_not_in_the_spec(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/api/docs")]
