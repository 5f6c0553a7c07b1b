"""HTTP hygiene in front of every route: who may ask, how the URL must be encoded, what every answer carries.

One ASGI middleware, outermost, so it holds for the JSON API, /sparql (whose
fast path bypasses FastAPI's routing) and the page alike:

* trusted hosts: a Host header outside `Settings.trusted_hosts` is refused
  (DNS rebinding), and nothing ever copies it into a redirect (FastAPI's
  trailing-slash redirects are off);
* cross-site browser requests are refused (403): an `Origin` other than the
  server's own, or `Sec-Fetch-Site` cross-site / same-site, unless it is a
  top-level navigation (a link from another site still opens the page).
  SPARQL protocol clients send neither header and are not affected;
* HEAD is answered on every GET route (the GET answer's headers, no body);
* a URL over `MAX_URL_BYTES` is a 414, headers over `MAX_HEADER_BYTES` a 431
  (h11 only enforces its limit on a request that arrives in pieces);
* a query string or path whose percent-escapes are not UTF-8 is a 400 with
  the JSON error body, instead of being read as U+FFFD;
* every answer says `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`
  and a `Referrer-Policy`; the page and its assets also carry a
  Content-Security-Policy that allows only the service's own scripts, styles
  and API (the page loads nothing else).
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "HttpGuard", "trusted_hosts"]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_COMMON = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"same-origin")]
MAX_URL_BYTES = 16 * 1024  # path and query string; the API's longest parameter is 500 characters
MAX_HEADER_BYTES = 64 * 1024  # also h11's limit for a request read in pieces (http_server.py)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def trusted_hosts(setting: str, bind_host: str) -> frozenset[str] | None:
    """The Host names to answer ("" derives them: loopback names when bound to loopback, else any); None: any."""
    names = [h.strip().lower() for h in setting.split(",") if h.strip()]
    if not names:
        names = list(_LOOPBACK) if bind_host in _LOOPBACK else ["*"]
    return None if "*" in names else frozenset(names)


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8765
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_utf8(raw: bytes) -> bool:
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class HttpGuard:
    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None = None) -> None:
        self.app, self.hosts = app, hosts

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str, str] | None:
        host = headers.get(b"host", b"").decode("latin-1")
        if self.hosts is not None and _host_name(host) not in self.hosts:
            return 400, "bad_request", f"this service does not answer for the host {host[:100]!r}"
        site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
        navigate = headers.get(b"sec-fetch-mode", b"").lower() == b"navigate" and scope["method"] in ("GET", "HEAD")
        origin = headers.get(b"origin")
        if site in ("cross-site", "same-site") and not navigate:
            return 403, "forbidden", "cross-site requests are not answered (Sec-Fetch-Site: " + site + ")"
        if origin is not None and origin.decode("latin-1").lower().split("://", 1)[-1] != host.lower() and not navigate:
            return 403, "forbidden", "cross-origin requests are not answered (Origin: " + \
                origin.decode("latin-1")[:100] + ")"
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
            return 414, "too_large", f"the URL is longer than {MAX_URL_BYTES // 1024} KiB"
        if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > MAX_HEADER_BYTES:
            return 431, "too_large", f"the headers are longer than {MAX_HEADER_BYTES // 1024} KiB"
        if not _is_utf8(scope.get("query_string", b"")) or not _is_utf8(scope.get("raw_path") or b""):
            return 400, "bad_request", "the URL's percent-escapes are not UTF-8"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        head = scope["method"] == "HEAD"
        path = scope["path"]
        page = path == "/" or path.startswith("/static/")

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [*_COMMON, *([(b"content-security-policy", CSP.encode())] if page else [])]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        refused = self._refusal(scope, headers)
        if refused is not None:
            status, error, detail = refused
            body = json.dumps({"error": error, "detail": detail}).encode()
            await guarded({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await guarded({"type": "http.response.body", "body": body})
            return
        if head:
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, guarded)
