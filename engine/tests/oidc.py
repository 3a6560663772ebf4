"""GitHub's OIDC token service for the tests: what a runner's job asks for its identity token.

On GitHub, a job granted ``id-token: write`` finds ``ACTIONS_ID_TOKEN_REQUEST_URL`` and
``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` in its environment; ``@actions/core``'s ``getIDToken``
(actions/toolkit packages/core/src/oidc-utils.ts) sends ``GET <URL>&audience=<aud>`` with
``Authorization: Bearer <TOKEN>`` and reads the JWT from the JSON body's ``value``. The token
is signed RS256 by the issuer (``https://token.actions.githubusercontent.com``), whose keys
are found as every OIDC relying party finds them: ``<issuer>/.well-known/openid-configuration``
-> ``jwks_uri``. Its claims name the run (GitHub's "About security hardening with OpenID
Connect"): ``sub`` is ``repo:<owner>/<repo>:pull_request`` for a pull request and
``repo:<owner>/<repo>:ref:<ref>`` otherwise; ``aud`` is the requested audience (the
repository owner's URL when none is asked).

``Issuer`` serves exactly that on loopback, over HTTP (the tests' STS, tests/moto_sts.py,
fetches its keys from there as AWS fetches GitHub's): a request without the run's bearer
token is refused (401), as GitHub refuses one. ``claims_for`` is set per workflow run.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def subject(repository: str, event: str, ref: str) -> str:
    """The ``sub`` claim GitHub gives a job of ``event`` on ``ref`` (no environment)."""
    if event in ("pull_request", "pull_request_target"):
        return f"repo:{repository}:pull_request"
    return f"repo:{repository}:ref:{ref}"


class Issuer:
    """A token service on a free loopback port (``url``: the ``iss`` claim)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        # what the runner gives the job as ACTIONS_ID_TOKEN_REQUEST_TOKEN
        self.request_token = secrets.token_urlsafe(24)
        self.claims: dict[str, str] = {}  # the run's: repository, sub, ref, event_name, ...
        self.issued: list[dict] = []  # every token's claims, for the tests
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, issuer.configuration())
                if url.path == "/.well-known/jwks":
                    return self._json(200, issuer.jwks())
                if url.path != "/token":
                    return self._json(404, {"message": "Not Found"})
                if self.headers.get("Authorization") != f"Bearer {issuer.request_token}":
                    return self._json(401, {"message": "Bad credentials"})
                audience = parse_qs(url.query).get("audience", [None])[0]
                return self._json(200, {"value": issuer.token(audience)})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def configuration(self) -> dict:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/.well-known/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()

        def raw(n: int) -> str:
            return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        key = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid}
        return {"keys": [{**key, "n": raw(numbers.n), "e": raw(numbers.e)}]}

    @property
    def request_url(self) -> str:
        """ACTIONS_ID_TOKEN_REQUEST_URL (GitHub's carries a query: getIDToken appends
        ``&audience=``)."""
        return f"{self.url}/token?api-version=2.0"

    def run(self, repository: str, event: str, ref: str, sha: str = "") -> None:
        """The claims of the next workflow run's tokens."""
        owner = repository.split("/")[0]
        self.claims = {
            "sub": subject(repository, event, ref),
            "repository": repository,
            "repository_owner": owner,
            "ref": ref,
            "sha": sha,
            "event_name": event,
            "default_aud": f"https://github.com/{owner}",
        }

    def token(self, audience: str | None = None, lifetime: int = 300, **claims) -> str:
        now = int(time.time())
        body = {k: v for k, v in self.claims.items() if k != "default_aud"}
        body |= {"iss": self.url, "iat": now, "nbf": now, "exp": now + lifetime}
        body["aud"] = audience or self.claims.get("default_aud", "")
        body |= claims
        self.issued.append(body)
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}"
        signature = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{b64url(signature)}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
