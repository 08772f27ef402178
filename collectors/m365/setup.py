"""Microsoft 365 at start-up: can the tenant be reached as configured? (exit 7 when not).

``build`` asks the entry's credential for a Graph token (kept by ``CachedCredential`` for the
collection) and sends one ``HEAD`` to the Graph host. Configuration problems, each with its fix:

* ``CredentialUnavailableError`` (azure-identity): ``az`` not installed or not logged in;
* ``ClientAuthenticationError`` whose Entra ID error code says the credential or the ids are
  wrong (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
  AADSTS7000215 invalid client secret, AADSTS7000222 expired secret, AADSTS700027 and
  AADSTS700024 certificate assertion refused, AADSTS700016 application not in the tenant,
  AADSTS90002 / AADSTS900023 tenant unknown or malformed, AADSTS7000112 application disabled,
  AADSTS700082 / AADSTS50173 / AADSTS70043 a CLI sign-in that expired — and the OAuth errors
  ``invalid_client`` / ``unauthorized_client`` (RFC 6749 §5.2);
* a login or Graph host that does not resolve, refuses or times out the connection.

Any other failure (a 5xx of the login service) is left to the collectors: they report it as a
collection error.
"""

from __future__ import annotations

import re

from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from clausewatch.collectors.reachability import host_of, unreachable
from clausewatch.core.configuration import SetupProblem

#: AADSTS code -> what it means for the sources entry.
AADSTS: dict[str, str] = {
    "7000215": "the client secret is not valid for this application",
    "7000222": "the client secret has expired",
    "700027": "the certificate's assertion was refused (not registered on the application)",
    "700024": "the certificate's assertion is outside its validity (check the clock)",
    "700016": "the application (client_id) is not found in the tenant",
    "90002": "the tenant is not found",
    "900023": "the tenant id is not a valid GUID or domain",
    "7000112": "the application is disabled",
    "700082": "the sign-in has expired (inactivity)",
    "50173": "the sign-in has expired (credentials changed)",
    "70043": "the sign-in has expired (Conditional Access sign-in frequency)",
}
_CODE = re.compile(r"AADSTS(\d+)")
_OAUTH_REFUSED = ("invalid_client", "unauthorized_client")


def token_problem(exc: BaseException, label: str, auth: str, login_host: str,
                  env: str | None) -> SetupProblem | None:
    """The configuration problem a failed preflight token request is, or None."""
    text = str(exc)
    if isinstance(exc, CredentialUnavailableError):
        return SetupProblem(label, f"the Azure CLI credential is unavailable: "
                            f"{text.splitlines()[0] if text else 'az not logged in'}",
                            "run az login --tenant <tenant_id> as the user the job runs as "
                            "(or use client_secret_env / certificate_file for a nightly job)")
    if not isinstance(exc, ClientAuthenticationError):
        return None
    reason = unreachable(exc)
    if reason is not None:
        return SetupProblem(label, f"cannot reach the login host {host_of(login_host)} "
                            f"({reason})", "check DNS, the network path or proxy "
                            "(HTTPS_PROXY), and cloud / login_host")
    match = _CODE.search(text)
    code = match.group(1) if match else None
    meaning = AADSTS.get(code or "")
    if meaning is None and not any(e in text for e in _OAUTH_REFUSED):
        return None
    what = f"Entra ID refused the token request (AADSTS{code}: {meaning})" if meaning else \
        f"Entra ID refused the token request ({_first(text)})"
    if auth == "azure_cli":
        fix = "run az login --tenant <tenant_id> again"
    elif code in ("90002", "900023"):
        fix = "correct tenant_id (the directory id, a GUID) and cloud"
    elif code in ("700016", "7000112"):
        fix = "correct client_id, or register/enable the application in this tenant"
    elif auth == "certificate":
        fix = "upload the certificate to the app registration, or correct certificate_file"
    else:
        fix = (f"put a current client secret of the application in {env}" if env
               else "renew the application's credential")
    return SetupProblem(label, what, fix)


def graph_problem(label: str, graph: str, reason: str) -> SetupProblem:
    return SetupProblem(label, f"cannot reach Graph at {host_of(graph)} ({reason})",
                        "check DNS, the network path or proxy (HTTPS_PROXY), and cloud / "
                        "graph_host")


def _first(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return "no detail"
