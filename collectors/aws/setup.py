"""Is an AWS failure at start-up a configuration problem (exit 7) or missing evidence (exit 4)?

Before collecting, a source calls ``sts:GetCallerIdentity`` (or ``organizations:ListAccounts``)
with its base credentials. These failures mean the entry cannot reach AWS at all, whatever the
account, so they are configuration problems naming the fix: no credentials in the chain
(``NoCredentialsError``), a profile missing from the config files (``ProfileNotFound``), an
expired or logged-out IAM Identity Center session (``UnauthorizedSSOTokenError``,
``SSOTokenLoadError``, ``TokenRetrievalError``), a ``credential_process`` that failed,
credentials AWS does not know or that expired (``InvalidClientTokenId``, ``ExpiredToken``,
``UnrecognizedClientException``, ``SignatureDoesNotMatch``), an endpoint that cannot be reached.
Anything else (``AccessDenied`` on one account's role, a 5xx) stays a collection error.
Credential chain and errors: https://boto3.amazonaws.com/v1/documentation/api/latest/guide/
credentials.html, https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from clausewatch.core.configuration import SetupProblem, source_label

#: Error codes of a request signed with credentials AWS refuses outright.
REFUSED_CREDENTIALS = frozenset({
    "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException",
    "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthFailure", "InvalidToken",
})


def configuration_problem(exc: BaseException, name: str, profile: str | None
                          ) -> SetupProblem | None:
    """The problem ``exc`` (raised reaching AWS with the base credentials) is, or None."""
    label = source_label("aws", name)
    where = f"profile {profile!r}" if profile else "the default credential chain"
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, ProfileNotFound):
        return SetupProblem(label, f"profile {profile!r} is not in the AWS config files",
                            f"create it (aws configure --profile {profile}, or aws configure "
                            "sso) or correct 'profile' in the sources file")
    if isinstance(exc, NoCredentialsError):
        return SetupProblem(label, f"no credentials found ({where})",
                            "set AWS_PROFILE or the entry's 'profile', or AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY, or run where an instance or task role is "
                            "attached")
    if isinstance(exc, PartialCredentialsError):
        return SetupProblem(label, f"incomplete credentials: {exc}",
                            f"complete the credentials of {where}")
    if isinstance(exc, SSOError | TokenRetrievalError):
        return SetupProblem(label, f"the IAM Identity Center (SSO) session of {where} has "
                            f"expired or was never started ({type(exc).__name__})",
                            f"run {login}")
    if isinstance(exc, CredentialRetrievalError):
        return SetupProblem(label, f"credentials of {where} could not be obtained: {exc}",
                            "fix the credential_process or source_profile of the profile")
    if isinstance(exc, NoRegionError):
        return SetupProblem(label, str(exc), "set 'region' in the sources entry")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return SetupProblem(label, f"cannot reach AWS: {exc}",
                            "check DNS, the network path or proxy (HTTPS_PROXY) and the "
                            "entry's 'endpoints'")
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in REFUSED_CREDENTIALS:
            message = exc.response.get("Error", {}).get("Message", "")
            return SetupProblem(label, f"AWS refused the credentials of {where} ({code}: "
                                f"{message})", "renew or replace them (an expired session: "
                                f"{login}, or new access keys)")
    return None
