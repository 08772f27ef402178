"""Google at start-up: is a failure to set up credentials a configuration problem (exit 7)?

Yes when no credentials can be had as the entry says: Application Default Credentials not
found (``google.auth.exceptions.DefaultCredentialsError``: no ``GOOGLE_APPLICATION_CREDENTIALS``,
no ``gcloud auth application-default login``, no metadata server;
https://cloud.google.com/docs/authentication/application-default-credentials), the variable
named by ``credentials.key_file_env`` unset, its file missing or unreadable, or credentials that
cannot delegate to the Workspace subject (:class:`CredentialError`).
"""

from __future__ import annotations

from google.auth.exceptions import DefaultCredentialsError

from clausewatch.collectors.google.credentials import CredentialError
from clausewatch.core.configuration import SetupProblem, source_label


def configuration_problem(exc: BaseException, section: str, name: str) -> SetupProblem | None:
    label = source_label(section, name)
    if isinstance(exc, DefaultCredentialsError):
        return SetupProblem(label, "no Google Application Default Credentials found",
                            "set credentials.key_file_env, or GOOGLE_APPLICATION_CREDENTIALS, "
                            "or run gcloud auth application-default login, or run on a VM / "
                            "Cloud Run job with a service account")
    if isinstance(exc, CredentialError):
        text = str(exc)
        cause = exc.__cause__
        if isinstance(cause, DefaultCredentialsError):
            return configuration_problem(cause, section, name)
        if "domain-wide delegation" in text:
            fix = "use a service-account key (key_file_env) or credentials.impersonate"
        elif "is not set" in text:
            fix = "export the variable with the path of the credentials file"
        else:
            fix = "put the credentials file there, or correct the variable's value"
        return SetupProblem(label, text, fix)
    return None
