"""Where Defender for Endpoint's API and its Entra ID sign-in are, per cloud, and the token scope.

* Commercial: the API at ``https://api.security.microsoft.com`` (the host of the current API
  pages, e.g. https://learn.microsoft.com/defender-endpoint/api/get-machines; the older
  ``api.securitycenter.microsoft.com`` and the regional ``us.``/``eu.``/``uk.``/``au.``/
  ``swa.``/``ina.api.security.microsoft.com`` hosts answer the same API), sign-in at
  ``https://login.microsoftonline.com``, scope ``https://api.securitycenter.microsoft.com/
  .default`` (the application-context token of
  https://learn.microsoft.com/defender-endpoint/api/exposed-apis-create-app-webapp).
* US Government (https://learn.microsoft.com/defender-endpoint/gov, "API"): GCC signs in at
  ``login.microsoftonline.com`` and calls ``https://api-gcc.securitycenter.microsoft.us``;
  GCC High and DoD sign in at ``login.microsoftonline.us`` and call
  ``https://api-gov.securitycenter.microsoft.us``. That page gives no scope: the scope used is
  the API host's ``/.default`` (as Microsoft's GCC samples do); ``scope`` overrides it.
* China (21Vianet): sign-in at ``login.chinacloudapi.cn``; no Defender for Endpoint API host is
  documented there, so an entry for it must name ``api_host`` and ``scope`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

COMMERCIAL_SCOPE = "https://api.securitycenter.microsoft.com/.default"


@dataclass(frozen=True, slots=True)
class Cloud:
    api: str | None  # None: not documented, the entry must give api_host
    login: str
    scope: str | None  # None: the entry must give scope


CLOUDS: Mapping[str, Cloud] = {
    "global": Cloud("https://api.security.microsoft.com", "https://login.microsoftonline.com",
                    COMMERCIAL_SCOPE),
    "gcc": Cloud("https://api-gcc.securitycenter.microsoft.us",
                 "https://login.microsoftonline.com",
                 "https://api-gcc.securitycenter.microsoft.us/.default"),
    "gcc_high": Cloud("https://api-gov.securitycenter.microsoft.us",
                      "https://login.microsoftonline.us",
                      "https://api-gov.securitycenter.microsoft.us/.default"),
    "dod": Cloud("https://api-gov.securitycenter.microsoft.us", "https://login.microsoftonline.us",
                 "https://api-gov.securitycenter.microsoft.us/.default"),
    "china": Cloud(None, "https://login.chinacloudapi.cn", None),
}
#: Sign-in hosts MSAL knows (instance discovery is left on for them, off for any other host).
KNOWN_LOGIN_HOSTS = frozenset({"login.microsoftonline.com", "login.microsoftonline.us",
                               "login.chinacloudapi.cn", "login.microsoft.com",
                               "login.windows.net", "login.partner.microsoftonline.cn"})
