"""moto's server (``moto_server``) with AWS's rules for ``sts:AssumeRoleWithWebIdentity``,
which moto 5 leaves out; tests/s3.py starts the tests' S3 server as ``python -m
tests.moto_sts`` (the same arguments as ``moto_server``).

What AWS does and moto does not (AWS STS API reference, AssumeRoleWithWebIdentity; IAM
User Guide, "Create a role for OpenID Connect federation"):

- the call is not signed (its caller has no AWS credentials yet: the token is the proof);
  moto, once it checks signatures (tests/s3.py), fails it with a 500 (no Authorization
  header);
- the token is checked: its issuer (``iss``) must be an OIDC provider created in the account
  (else ``InvalidIdentityToken``, "No OpenIDConnect provider found in your account for
  <iss>"), its RS256 signature valid for a key of the issuer's JWKS (found through
  ``<iss>/.well-known/openid-configuration``), unexpired (``ExpiredTokenException``), its
  ``aud`` one of the provider's client IDs ("Incorrect token audience");
- the role's trust policy must allow it: a statement allowing
  ``sts:AssumeRoleWithWebIdentity`` to ``Principal.Federated`` = the provider's ARN, whose
  ``StringEquals``/``StringLike`` conditions on ``<provider>:aud`` and ``<provider>:sub``
  hold for the token (else ``AccessDenied``, "Not authorized to perform
  sts:AssumeRoleWithWebIdentity"). moto accepts any token for any role.

The credentials it then returns are moto's usual assumed-role ones (``ASIA...`` with a
session token), which its S3 accepts only with that token and within the role's policies.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import time
import urllib.request
from urllib.parse import urlparse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.oidc import unb64url

ACTION = "sts:AssumeRoleWithWebIdentity"
NOT_VALIDATED = (
    "The web identity token that was passed could not be validated by AWS. Get a new identity "
    "token from the identity provider and then retry the request."
)


def _error(code: str, message: str) -> Exception:
    from moto.sts.exceptions import STSClientError

    return STSClientError(code, message)


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _verify(token: str, issuer: str) -> dict:
    """The token's claims, once its signature checks out with the issuer's published keys."""
    try:
        head, body, signature = token.split(".")
        header, claims = json.loads(unb64url(head)), json.loads(unb64url(body))
    except ValueError as e:
        raise _error("InvalidIdentityToken", NOT_VALIDATED) from e
    if header.get("alg") != "RS256":
        raise _error("InvalidIdentityToken", NOT_VALIDATED)
    jwks = _get_json(_get_json(f"{issuer}/.well-known/openid-configuration")["jwks_uri"])
    key = next((k for k in jwks["keys"] if k.get("kid") == header.get("kid")), None)
    if key is None:
        raise _error("InvalidIdentityToken", NOT_VALIDATED)
    public = rsa.RSAPublicNumbers(
        int.from_bytes(unb64url(key["e"]), "big"), int.from_bytes(unb64url(key["n"]), "big")
    ).public_key()
    try:
        public.verify(
            unb64url(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as e:
        raise _error("InvalidIdentityToken", NOT_VALIDATED) from e
    return claims


def _holds(conditions: dict, values: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            wanted = expected if isinstance(expected, list) else [expected]
            actual = values.get(key)
            if actual is None:
                return False
            if operator == "StringEquals" and actual not in wanted:
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(actual, w) for w in wanted):
                return False
            if operator not in ("StringEquals", "StringLike"):
                return False  # an operator this check does not know denies
    return True


def check(account: str, partition: str, role_arn: str, token: str) -> None:
    """Raise AWS's error unless ``token`` may assume ``role_arn`` (see the module)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account][partition]
    try:
        unverified = json.loads(unb64url(token.split(".")[1]))
        issuer = str(unverified["iss"])
    except (IndexError, ValueError, KeyError) as e:
        raise _error("InvalidIdentityToken", NOT_VALIDATED) from e
    parsed = urlparse(issuer)
    host = parsed.netloc + parsed.path
    provider = next((p for p in iam.open_id_providers.values() if p.url == host), None)
    if provider is None:
        raise _error(
            "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {issuer}"
        )
    claims = _verify(token, issuer)
    now = int(time.time())
    if int(claims.get("exp", 0)) <= now:
        raise _error(
            "ExpiredTokenException",
            f"Token expired: current date/time {now} must be before the expiration date/time "
            f"{claims.get('exp')}",
        )
    if claims.get("aud") not in provider.client_id_list:
        raise _error("InvalidIdentityToken", "Incorrect token audience")
    denied = _error("AccessDenied", f"Not authorized to perform {ACTION}")
    try:
        role = iam.get_role(role_arn.rsplit("/", 1)[-1])
    except Exception as e:  # moto's NoSuchEntity: AWS says the same as for a refused trust
        raise denied from e
    policy = role.assume_role_policy_document
    policy = json.loads(policy) if isinstance(policy, str) else policy
    values = {f"{host}:aud": str(claims.get("aud")), f"{host}:sub": str(claims.get("sub"))}
    for statement in policy.get("Statement", []):
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if (
            statement.get("Effect") == "Allow"
            and ACTION in actions
            and (statement.get("Principal") or {}).get("Federated") == provider.arn
            and _holds(statement.get("Condition") or {}, values)
        ):
            return
    raise denied


def patch() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.sts.responses import TokenResponse

    authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def unsigned_for_web_identity(self, resource: str = "*") -> None:
        if self._get_action() == "AssumeRoleWithWebIdentity":
            return  # AWS: not signed; the token is checked below instead
        authenticate(self, resource)

    assume = TokenResponse.assume_role_with_web_identity

    def checked(self):
        check(
            self.current_account,
            self.partition,
            self._get_param("RoleArn"),
            self._get_param("WebIdentityToken") or "",
        )
        return assume(self)

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = unsigned_for_web_identity
    TokenResponse.assume_role_with_web_identity = checked


if __name__ == "__main__":
    patch()
    from moto.server import main

    main(sys.argv[1:])
