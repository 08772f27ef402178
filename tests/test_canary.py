"""Canary: one distinct secret in every place a secret can be, one nightly run, zero hits.

The run (``clausewatch run`` with alerts, a history store and a signing key) reads its secrets
from every source there is: the alert channels' environment variables (a webhook URL with a
token in its path and its query, an ``Authorization`` header, a Slack URL, a Teams workflow URL
with its ``sig``, a PagerDuty routing key), the sources file's ``client_secret_env``, and the
signing key's password. Every receiver echoes what it got: the webhooks answer with the whole
request, Slack-style with the path, Teams-style with a 302 to the URL, and the Graph-like API
answers 403 with the client secret and the bearer token in its error message. Then every output
file, the evidence pack and the members of its zip, the history store (with its WAL), the log
records (DEBUG and up) and stdout/stderr are searched for each secret, whole and its first and
last ten characters: zero hits.

Secrets obtained at run time are seeded too: the Graph bearer token the credential hands out,
and the credentials an AWS source gets from ``sts:AssumeRole`` (access key id, secret key,
session token). The AWS source runs against a local counterpart (a botocore ``before-send``
handler answering in place of AWS): STS grants the canary credentials, and IAM refuses every
call with an AccessDenied message echoing all three.

Extension point: ``SEEDS`` lists the secret sources.
"""

from __future__ import annotations

import contextlib
import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.core.credentials import AccessToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from echo_receivers import EchoReceiver

from clausewatch.cli import main
from clausewatch.collectors.aws import session as aws_session
from clausewatch.collectors.m365 import source as m365_source

CONTRACT = Path(__file__).parent / "fixtures" / "m365" / "contract.yaml"
TENANT = "11111111-1111-1111-1111-111111111111"


@dataclass(frozen=True)
class Seed:
    where: str
    secret: str  # letters and digits only: every encoding of it is itself


SEEDS = [
    Seed("webhook URL path token (env CW_HOOK_URL)", "hookPathCanary0a1b2c3d"),
    Seed("webhook URL query secret ?token= (env CW_HOOK_URL)", "hookQueryCanary4e5f6a7b"),
    Seed("webhook Authorization header (env CW_HOOK_AUTH)", "bearerCanary3a4b5c6d7e8f"),
    Seed("Slack URL team id (env CW_SLACK_URL)", "T0CANARY7Q"),
    Seed("Slack URL channel id (env CW_SLACK_URL)", "B0CANARY8XZ"),
    Seed("Slack URL secret (env CW_SLACK_URL)", "slackCanary9c8d7e6f5a4b3c2d"),
    Seed("Teams workflow id (env CW_TEAMS_URL)", "teamsWorkflowCanary1f2e3d4c"),
    Seed("Teams sig (env CW_TEAMS_URL)", "teamsSigCanary5b6a7f8e9d0c1b2a"),
    Seed("PagerDuty routing key (env CW_PD_KEY)", "routingKeyCanary0f9e8d7c6b5a4"),
    Seed("sources file client_secret_env (env CW_GRAPH_SECRET)", "graphClientSecretCanary77x"),
    Seed("signing key password (env CLAUSEWATCH_SIGNING_KEY_PASSWORD)", "keyPasswordCanary42q"),
]
TOKEN = Seed("collector bearer token (obtained at run time)", "graphBearerTokenCanary99z")
ASSUMED = [
    Seed("assumed-role access key id (sts:AssumeRole)", "ASIACANARY0AKID7Q2W"),
    Seed("assumed-role secret access key (sts:AssumeRole)", "awsSecretKeyCanary5x6y7z8w9v"),
    Seed("assumed-role session token (sts:AssumeRole)", "awsSessionTokenCanary1a2b3c4d5e"),
]
ALL = [*SEEDS, TOKEN, *ASSUMED]
SECRET = {s.where.split(" (")[0]: s.secret for s in ALL}


def _params() -> list[object]:
    return [pytest.param(s, id=s.where) for s in ALL]


@dataclass(frozen=True)
class CanaryRun:
    codes: tuple[int, int]
    blobs: dict[str, bytes]  # where -> content searched
    echo: EchoReceiver
    aws: LocalAws


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _write_inputs(folder: Path, echo: EchoReceiver) -> dict[str, str]:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(SECRET["signing key password"].encode()))
    (folder / "signing.pem").write_bytes(pem)
    (folder / "sources.yaml").write_text(f"""version: 1
sources:
  m365:
    - name: contoso
      tenant_id: {TENANT}
      client_id: 8a2b6c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d
      client_secret_env: CW_GRAPH_SECRET
      graph_host: {echo.base}
      login_host: https://login.canary.invalid
      collect: [entra]
  aws:
    - name: canary-aws
      regions: [eu-west-3]
      accounts: ["111111111111"]
      role: {{name: Audit}}
      collect: [identity]
""")
    (folder / "alerts.yaml").write_text(f"""alerts:
  retry: {{attempts: 2, initial_wait_seconds: 0, max_wait_seconds: 0}}
  channels:
    - {{name: hook, type: webhook, url_env: CW_HOOK_URL,
       headers_env: {{Authorization: CW_HOOK_AUTH}}}}
    - {{name: slack, type: slack, url_env: CW_SLACK_URL}}
    - {{name: teams, type: teams, url_env: CW_TEAMS_URL}}
    - {{name: pd, type: pagerduty, routing_key_env: CW_PD_KEY, url: "{echo.base}/v2/enqueue"}}
""")
    s = SECRET
    return {
        "CW_HOOK_URL": f"{echo.base}/hooks/{s['webhook URL path token']}?"
                       f"token={s['webhook URL query secret ?token=']}",
        "CW_HOOK_AUTH": f"Bearer {s['webhook Authorization header']}",
        "CW_SLACK_URL": f"{echo.base}/services/{s['Slack URL team id']}/"
                        f"{s['Slack URL channel id']}/{s['Slack URL secret']}",
        "CW_TEAMS_URL": f"{echo.base}/workflows/{s['Teams workflow id']}/triggers/manual/paths/"
                        "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0"
                        f"&sig={s['Teams sig']}",
        "CW_PD_KEY": s["PagerDuty routing key"],
        "CW_GRAPH_SECRET": s["sources file client_secret_env"],
        "CLAUSEWATCH_SIGNING_KEY": str(folder / "signing.pem"),
        "CLAUSEWATCH_SIGNING_KEY_PASSWORD": s["signing key password"],
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: object) -> Iterator[bytes]:
        yield self.data

    def read(self, *_: object) -> bytes:
        return self.data


class LocalAws:
    """Answers in place of AWS (botocore's ``before-send``): STS grants the canary credentials,
    IAM refuses with a message echoing them (and records that it saw them)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: object, **_: object) -> object:
        from botocore.awsrequest import AWSResponse

        url = str(getattr(request, "url", ""))
        body = getattr(request, "body", b"") or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        headers = getattr(request, "headers", {})
        if "sts." in url and "Action=AssumeRole" in text:
            key, secret, token = (SECRET[k] for k in ("assumed-role access key id",
                                                      "assumed-role secret access key",
                                                      "assumed-role session token"))
            xml = ("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                   f"<AssumeRoleResult><Credentials><AccessKeyId>{key}</AccessKeyId>"
                   f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}"
                   "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
                   "<AssumedRoleUser><AssumedRoleId>AROACANARY:clausewatch</AssumedRoleId><Arn>"
                   "arn:aws:sts::111111111111:assumed-role/Audit/clausewatch</Arn>"
                   "</AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r1"
                   "</RequestId></ResponseMetadata></AssumeRoleResponse>")
            return AWSResponse(url, 200, {}, _Body(xml.encode()))
        if "sts." in url:
            xml = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/"
                   "\"><GetCallerIdentityResult><Arn>arn:aws:iam::999999999999:user/audit</Arn>"
                   "<UserId>AIDACANARY</UserId><Account>999999999999</Account>"
                   "</GetCallerIdentityResult><ResponseMetadata><RequestId>r2</RequestId>"
                   "</ResponseMetadata></GetCallerIdentityResponse>")
            return AWSResponse(url, 200, {}, _Body(xml.encode()))
        auth = str(headers.get("Authorization", ""))
        token = str(headers.get("X-Amz-Security-Token", ""))
        self.seen += [auth, token]
        echo = (f"User with key {auth.split('Credential=')[-1].split('/')[0]} and session token "
                f"{token} (secret {SECRET['assumed-role secret access key']}) is not "
                "authorized to perform this action")
        xml = ("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
               f"<Type>Sender</Type><Code>AccessDenied</Code><Message>{echo}</Message></Error>"
               "<RequestId>r3</RequestId></ErrorResponse>")
        return AWSResponse(url, 403, {}, _Body(xml.encode()))


class _FixedToken:
    """The credential the real ``make_credential`` built is kept (it read and registered the
    client secret); requests carry this run-time token instead of reaching a login host."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(TOKEN.secret, 4102444800)


def _evidence_file(folder: Path) -> Path:
    from report_case import case_records

    from clausewatch.collectors.jsonl import write_evidence

    path = folder / "evidence.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        write_evidence(case_records(), handle)
    return path


def _files(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        yield str(path.relative_to(root.parent)), data
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    yield f"{path.name}!{name}", zf.read(name)


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryRun]:
    from report_case import GOLDEN

    case_contract = GOLDEN / "contract.yaml"
    folder = tmp_path_factory.mktemp("canary")
    echo = EchoReceiver(graph_echo=f"client_secret={SECRET['sources file client_secret_env']}")
    real = m365_source.make_credential
    local_aws = LocalAws()
    real_client = aws_session.boto3_client

    def boto3_client(*args, **kwargs):  # type: ignore[no-untyped-def]
        client = real_client(*args, **kwargs)
        client.meta.events.register("before-send", local_aws)
        return client

    def make_credential(entry, context, login):  # type: ignore[no-untyped-def]
        real(entry, context, login)
        return _FixedToken()

    capture = _Capture()
    root = logging.getLogger()
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in _write_inputs(folder, echo).items():
            mp.setenv(name, value)
        mp.setattr(m365_source, "make_credential", make_credential)
        mp.setattr(aws_session, "boto3_client", boto3_client)
        old_level = root.level
        root.addHandler(capture)
        root.setLevel(logging.DEBUG)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["run", "--policy", str(CONTRACT), "--sources",
                             str(folder / "sources.yaml"), "--alerts", str(folder / "alerts.yaml"),
                             "--history", str(folder / "state" / "history.sqlite"),
                             "--out", str(folder / "out"), "--as-of", "2025-01-20T06:00:00Z"])
                # then a run with breaches, so PagerDuty (which pages breaches only) is sent too
                code2 = main(["evaluate", "--policy", str(case_contract), "--evidence",
                              str(_evidence_file(folder)), "--alerts", str(folder / "alerts.yaml"),
                              "--history", str(folder / "state" / "history.sqlite"),
                              "--out", str(folder / "out2"), "--as-of", "2026-11-22T06:00:00Z"])
        finally:
            root.removeHandler(capture)
            root.setLevel(old_level)
    blobs = dict(_files(folder / "out"))
    blobs.update(_files(folder / "out2"))
    blobs.update(_files(folder / "state"))
    blobs["log records"] = "\n".join(capture.lines).encode()
    blobs["stdout"], blobs["stderr"] = out.getvalue().encode(), err.getvalue().encode()
    yield CanaryRun((code, code2), blobs, echo, local_aws)
    echo.close()


def test_the_run_exercised_every_secret(canary_run: CanaryRun) -> None:
    """Otherwise zero hits would prove nothing."""
    # no evidence (Graph answers 403), then a breach
    assert canary_run.codes == (4, 3), canary_run.blobs["stderr"].decode()
    seen = "".join(str(r) for r in canary_run.echo.requests)
    graph_calls = [r for r in canary_run.echo.requests if r["method"] == "GET"]
    assert graph_calls  # and each answer echoed the client secret:
    seen += canary_run.echo.graph_echo + " ".join(canary_run.aws.seen)
    seen += SECRET["assumed-role secret access key"]  # never sent: IAM's error echoes it
    for seed in ALL:
        if seed.where.startswith("signing key password"):
            continue  # used to decrypt the key only; it must still appear nowhere
        assert seed.secret in seen, seed.where  # each receiver did get (and echo) its secret
    names = set(canary_run.blobs)
    for expected in ("out/alerts.json", "out/results.json", "out/evidence.jsonl",
                     "out/evidence-pack/signature.json", "evidence-pack.zip!evidence-pack/run.json",
                     "state/history.sqlite", "log records"):
        assert expected in names, sorted(names)
    alerts = canary_run.blobs["out2/alerts.json"].decode()
    assert alerts.count('"ok": false') == 4  # every echoing receiver failed, the 302 too
    evidence = canary_run.blobs["out/evidence.jsonl"].decode()
    assert "Access token validation failure" in evidence  # the Graph error was kept, masked
    assert "is not authorized to perform this action" in evidence  # so was IAM's


@pytest.mark.parametrize("seed", _params())
def test_no_secret_anywhere(canary_run: CanaryRun, seed: Seed) -> None:
    pieces = {seed.secret, seed.secret[:10], seed.secret[-10:]}
    hits = [(where, piece.decode()) for where, blob in canary_run.blobs.items()
            for piece in (p.encode() for p in pieces) if piece in blob]
    assert hits == [], f"{seed.where}: {len(hits)} hit(s) {hits[:5]}"

