"""The local stack: MiniStack on 127.0.0.1, the same template.yaml built and deployed into it.

Used by `make run` (through `python -m devstack`) and by the integration tests, so
what the tests exercise is exactly what a developer runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
import botocore.config

from devstack.mail import SmtpReceiver
from parcelhooks.auth.keys import create_key, key_is_live
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.core.api_keys import Role, Vocabulary

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venvs"
REGION = "us-east-1"
ARTIFACTS_BUCKET = "parcelhooks-local-artifacts"
LOCAL_RETRY_SCHEDULE = "1,2,4"
LOCAL_ALLOWED_NETWORKS = "127.0.0.0/8"
LOCAL_DISABLE_AFTER_FAILING_HOURS = "0.005"  # 18 seconds
# The From of the stack's e-mail: template.yaml's EmailFromAddress default, which devstack
# deploys with. MiniStack's SES, like AWS's, refuses to send from an unverified address.
EMAIL_FROM_ADDRESS = "parcelhooks@example.com"
MAIL_DIR_NAME = "mail"  # under a stack's state folder: where its SES mail lands
HEALTH_TIMEOUT_S = 60.0
# What a child of ours gets between SIGTERM and SIGKILL (MiniStack exits in about a second).
STOP_GRACE_S = 10.0
STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "000000000000",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class StackError(RuntimeError):
    pass


class StopRequested(BaseException):
    """SIGHUP, SIGINT or SIGTERM arrived: raised in the main thread, like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _StopSignals:
    """The one place stop signals turn into StopRequested: once, and never inside a
    `deferred_stop()` block, so a child just started is always recorded before we stop."""

    def __init__(self) -> None:
        self.deferring = 0
        self.pending: int | None = None
        self.stopping = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return  # a second signal must not cut the cleanup short
        if self.deferring:
            self.pending = self.pending or signum
            return
        self.stopping = True
        raise StopRequested(signum)


_stop_signals = _StopSignals()


def stop_on_signals() -> None:
    """Make SIGHUP, SIGINT and SIGTERM raise StopRequested, except one ignored when we
    started (`nohup`, or SIGINT in a background job), as make itself does."""
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop_signals.handle)


def begin_stopping() -> None:
    """From now on stop signals are ignored: the cleanup that follows runs to its end."""
    _stop_signals.stopping = True


@contextmanager
def deferred_stop() -> Iterator[None]:
    """A stop signal that arrives in the block is raised when it ends."""
    _stop_signals.deferring += 1
    try:
        yield
    finally:
        _stop_signals.deferring -= 1
    if not _stop_signals.deferring and _stop_signals.pending and not _stop_signals.stopping:
        _stop_signals.stopping = True
        raise StopRequested(_stop_signals.pending)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    return True


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (a zombie waiting to be reaped does not)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # After the command's closing parenthesis: state, ppid, pgrp, ...
            state, _, pgrp = stat.read_text().rpartition(")")[2].split()[:3]
        except (OSError, ValueError):
            continue  # it exited while we looked
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def stop_process_group(process: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """Stop a child started in its own session and all of its process group (MiniStack's
    function workers, sam's pip): SIGTERM, then SIGKILL for whatever is left after grace_s."""
    if process.poll() is not None and not _group_alive(process.pid):
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(process.pid):
        log(f"process group {process.pid} still there {grace_s:.0f}s after SIGTERM: SIGKILL")
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_in_own_group(
    command: list[str], *, capture: bool, **options: Any
) -> subprocess.CompletedProcess[str]:
    """subprocess.run, with the command and all it starts stopped as a group if we are
    interrupted (subprocess.run would SIGKILL the command alone and orphan its children)."""
    output = subprocess.PIPE if capture else None
    process: subprocess.Popen[str] | None = None
    try:
        with deferred_stop():
            process = subprocess.Popen(
                command, stdout=output, stderr=output, text=True, start_new_session=True, **options
            )
        stdout, stderr = process.communicate()
    except BaseException:
        if process is not None:
            stop_process_group(process)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def python313_dir() -> str:
    """The folder of the interpreter this venv was made from: `sam build` needs it on PATH."""
    return str(Path(os.path.realpath(sys.executable)).parent)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Any, timeout_s: float, what: str, interval_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise StackError(f"timed out after {timeout_s:.0f}s waiting for {what}")


@dataclass
class MiniStack:
    """A MiniStack server process on 127.0.0.1:<port>, its scratch files under `workdir`;
    with `mail_receiver`, SES relays every message it sends to that SMTP receiver, which
    starts before MiniStack and stops after it."""

    port: int
    workdir: Path
    persist: bool = False
    mail_receiver: SmtpReceiver | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_ministack/health", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    @property
    def pid_file(self) -> Path:
        """Where MiniStack records its pid (in its TMPDIR), for `ministack --stop`."""
        return self.workdir / "tmp" / f"ministack-{self.port}.pid"

    @property
    def mail_dir(self) -> Path | None:
        """Where the SES mail of this MiniStack lands, if our receiver gets it."""
        receiver = self.mail_receiver
        return receiver.mail_dir if receiver is not None and receiver.running else None

    def start(self) -> None:
        """Start MiniStack unless one already answers on the port (then reuse it)."""
        if self.healthy():
            if self.mail_receiver is not None:
                log(
                    f"MiniStack already answers on port {self.port}: its SES mail goes to "
                    f"the SMTP_HOST it was started with, not to {self.mail_receiver.mail_dir}"
                )
            return
        tmp = self.workdir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        self._remove_stale_pid_file()
        env = {
            **os.environ,
            **FAKE_CREDENTIALS,
            "BIND_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.port),
            "TMPDIR": str(tmp),
            "LOG_LEVEL": "WARNING",
        }
        if self.mail_receiver is not None:
            with deferred_stop():
                self.mail_receiver.start()
            env["SMTP_HOST"] = self.mail_receiver.address
        if self.persist:
            env |= {"PERSIST_STATE": "1", "STATE_DIR": str(self.workdir / "ministack-state")}
        log_path = self.workdir / f"ministack-{self.port}.log"
        with log_path.open("wb") as log_file, deferred_stop():
            self.process = subprocess.Popen(
                [str(VENVS / "ministack/bin/ministack")],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_until(self._up_or_dead, HEALTH_TIMEOUT_S, f"MiniStack on port {self.port}")
        if not self.healthy():
            raise StackError(f"MiniStack exited; see {log_path}")

    def _up_or_dead(self) -> bool:
        return self.healthy() or (self.process is not None and self.process.poll() is not None)

    def stop(self) -> None:
        """Stop MiniStack and its function workers (they share its process group), then
        the mail receiver."""
        try:
            if self.process is None:
                return
            stop_process_group(self.process)
            # MiniStack removes its pid file on SIGTERM, not when it is killed.
            if self._pid_in_file() == self.process.pid:
                self.pid_file.unlink(missing_ok=True)
        finally:
            if self.mail_receiver is not None:
                self.mail_receiver.stop()

    def _pid_in_file(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _remove_stale_pid_file(self) -> None:
        """A pid file left by a MiniStack that was killed would send `ministack --stop`
        to whatever process gets that pid next."""
        pid = self._pid_in_file()
        if pid is None or not _running(pid):
            self.pid_file.unlink(missing_ok=True)


@dataclass
class Deployment:
    """What a deployed stack tells its users, from its CloudFormation outputs, and where
    the mail its functions send through SES lands (None when no receiver of ours gets it)."""

    endpoint: str
    stack_name: str
    outputs: dict[str, str]
    mail_dir: Path | None = None

    @property
    def api_url(self) -> str:
        return f"{self.endpoint}/restapis/{self.outputs['ApiId']}/prod/_user_request_"

    def boto3_session(self) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )

    def client(self, service: str) -> Any:
        return self.boto3_session().client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def resource(self, service: str) -> Any:
        return self.boto3_session().resource(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]


def _sam(args: list[str], endpoint: str, quiet: bool) -> None:
    env = {
        **os.environ,
        **FAKE_CREDENTIALS,
        **({"AWS_ENDPOINT_URL": endpoint} if endpoint else {}),
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{python313_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [str(VENVS / "sam/bin/sam"), *args]
    result = run_in_own_group(command, capture=quiet, cwd=ROOT, env=env)
    if result.returncode != 0:
        output = (result.stdout or "") + (result.stderr or "") if quiet else ""
        raise StackError(f"`sam {args[0]}` failed ({result.returncode})\n{output[-4000:]}")


BUILD_DIR = ROOT / ".aws-sam" / "local-build"


def build(
    overrides: list[str] | None = None, *, quiet: bool = True, build_dir: Path = BUILD_DIR
) -> Path:
    """`sam build` for the local architecture (x86_64), cached; returns the build folder."""
    _sam(
        [
            "build",
            "--build-dir",
            str(build_dir),
            "--cached",
            "--cache-dir",
            str(ROOT / ".aws-sam" / "local-cache"),
            "--parameter-overrides",
            *(overrides or ["Architecture=x86_64"]),
        ],
        "",
        quiet,
    )
    return build_dir


def deploy(
    ministack: MiniStack,
    stack_name: str,
    *,
    retry_schedule: str = LOCAL_RETRY_SCHEDULE,
    extra_parameters: dict[str, str] | None = None,
    quiet: bool = True,
    build_dir: Path = BUILD_DIR,
) -> Deployment:
    """`sam build` + `sam deploy` of template.yaml into MiniStack, as for the cloud."""
    endpoint = ministack.endpoint
    parameters = {
        "Architecture": "x86_64",
        "RetrySchedule": retry_schedule,
        "AllowHttpTargets": "true",
        "AllowedTargetNetworks": LOCAL_ALLOWED_NETWORKS,
        "AuthorizerCacheTtl": "0",
        "QueueVisibilityTimeout": "15",
        "FanoutTimeoutSeconds": "15",
        "PoisonReceiveCount": "2",
        # A failing endpoint is paused, probed every 2 s and disabled within seconds, so
        # the breaker can be watched (and tested) locally.
        "DisableAfterFailingHours": LOCAL_DISABLE_AFTER_FAILING_HOURS,
        "DisableAfterFailures": "6",
        "BreakerProbeSeconds": "2",
        # The stalled/late sweep every minute, so an alert can be watched (and tested).
        "SweepSchedule": "rate(1 minute)",
        "LogLevel": "INFO",
        **(extra_parameters or {}),
    }
    # sam splits overrides on spaces: a value with one (`rate(1 minute)`) goes in quotes.
    overrides = [
        f'{name}="{value}"' if " " in value else f"{name}={value}"
        for name, value in parameters.items()
    ]
    build(overrides, quiet=quiet, build_dir=build_dir)
    session = Deployment(endpoint, stack_name, {}).boto3_session()
    s3 = session.client("s3", endpoint_url=endpoint)
    if ARTIFACTS_BUCKET not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    _sam(
        [
            "deploy",
            "--template-file",
            str(build_dir / "template.yaml"),
            "--stack-name",
            stack_name,
            "--s3-bucket",
            ARTIFACTS_BUCKET,
            "--capabilities",
            "CAPABILITY_IAM",
            "--region",
            REGION,
            "--no-confirm-changeset",
            "--no-fail-on-empty-changeset",
            "--parameter-overrides",
            *overrides,
        ],
        endpoint,
        quiet,
    )
    deployment = describe(endpoint, stack_name)
    deployment.mail_dir = ministack.mail_dir
    verify_sender(deployment)
    apply_gateway_responses(deployment)
    apply_binary_media_types(deployment)
    apply_authorizer_ttl(deployment, int(parameters["AuthorizerCacheTtl"]))
    apply_event_source_concurrency(deployment)
    deployment.client("apigateway").create_deployment(
        restApiId=deployment.outputs["ApiId"], stageName="prod"
    )
    return deployment


def verify_sender(deployment: Deployment) -> None:
    """Verify the stack's From address in SES, so SendEmail from it is accepted.

    MiniStack, like AWS, answers MessageRejected to SendEmail from an unverified address;
    locally VerifyEmailIdentity succeeds at once (in AWS someone follows the link it mails).
    """
    deployment.client("ses").verify_email_identity(EmailAddress=EMAIL_FROM_ADDRESS)


def apply_authorizer_ttl(deployment: Deployment, ttl_s: int) -> None:
    """Set the authorizer's cache TTL to the deployed parameter's value.

    MiniStack runs the SAM transform with the template's default parameter values, so
    `ReauthorizeEvery: !Ref AuthorizerCacheTtl` arrives as 300 whatever we deploy with;
    in AWS the transform sees the real value. A revoked key must stop working at once
    locally, so we patch it through the API Gateway API.
    """
    apigateway = deployment.client("apigateway")
    api_id = deployment.outputs["ApiId"]
    for authorizer in apigateway.get_authorizers(restApiId=api_id)["items"]:
        apigateway.update_authorizer(
            restApiId=api_id,
            authorizerId=authorizer["id"],
            patchOperations=[
                {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": str(ttl_s)}
            ],
        )


def apply_event_source_concurrency(deployment: Deployment) -> None:
    """Give the SQS event sources their MaximumConcurrency as a number.

    MiniStack keeps `MaximumConcurrency: !Ref FanoutMaxConcurrency` as the parameter's
    string, and its poller then fails comparing it with a count, so nothing is delivered;
    CloudFormation in AWS passes a number. We put the same value back as a number.
    """
    awslambda = deployment.client("lambda")
    for mapping in awslambda.list_event_source_mappings()["EventSourceMappings"]:
        limit = mapping.get("ScalingConfig", {}).get("MaximumConcurrency")
        # Always put back: botocore may already show the stored string as a number.
        if limit is not None:
            awslambda.update_event_source_mapping(
                UUID=mapping["UUID"], ScalingConfig={"MaximumConcurrency": int(limit)}
            )


def apply_gateway_responses(deployment: Deployment) -> None:
    """Put the template's GatewayResponses on the API (the caller then redeploys the stage).

    MiniStack imports the API's OpenAPI body but not its
    `x-amazon-apigateway-gateway-responses`, so the error shape of 401/403/404
    would differ locally. We read them from the template MiniStack itself
    processed (no second copy to drift) and apply them through the API.
    """
    cloudformation = deployment.client("cloudformation")
    processed = cloudformation.get_template(
        StackName=deployment.stack_name, TemplateStage="Processed"
    )["TemplateBody"]
    template = processed if isinstance(processed, dict) else json.loads(processed)
    api_id = deployment.outputs["ApiId"]
    apigateway = deployment.client("apigateway")
    for resource in template["Resources"].values():
        body = resource.get("Properties", {}).get("Body", {})
        for response_type, spec in body.get("x-amazon-apigateway-gateway-responses", {}).items():
            options: dict[str, Any] = {"responseTemplates": spec.get("responseTemplates", {})}
            if "statusCode" in spec:
                options["statusCode"] = str(spec["statusCode"])
            apigateway.put_gateway_response(restApiId=api_id, responseType=response_type, **options)


def apply_binary_media_types(deployment: Deployment) -> None:
    """Give the API the template's BinaryMediaTypes as media types (`*/*`, not `*~1*`).

    MiniStack stores the RestApi's `BinaryMediaTypes` as written, with CloudFormation's
    `~1` for `/` still in it, and ignores the body's `x-amazon-apigateway-binary-media-types`;
    `*~1*` then matches no Content-Type, and bodies reach the functions as text with
    non-UTF-8 bytes replaced. AWS reads `~1` as `/`. We set the decoded list; MiniStack's
    UpdateRestApi takes a whole list as the value, which botocore would refuse to send.
    """
    cloudformation = deployment.client("cloudformation")
    processed = cloudformation.get_template(
        StackName=deployment.stack_name, TemplateStage="Processed"
    )["TemplateBody"]
    template = processed if isinstance(processed, dict) else json.loads(processed)
    media_types: list[str] = []
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::ApiGateway::RestApi":
            continue
        properties = resource.get("Properties", {})
        written = [
            *properties.get("BinaryMediaTypes", []),
            *properties.get("Body", {}).get("x-amazon-apigateway-binary-media-types", []),
        ]
        for media_type in written:
            decoded = media_type.replace("~1", "/").replace("~0", "~")
            if decoded not in media_types:
                media_types.append(decoded)
    if not media_types:
        return
    apigateway = deployment.boto3_session().client(
        "apigateway",
        endpoint_url=deployment.endpoint,
        config=botocore.config.Config(parameter_validation=False),
    )
    apigateway.update_rest_api(
        restApiId=deployment.outputs["ApiId"],
        patchOperations=[{"op": "replace", "path": "/binaryMediaTypes", "value": media_types}],
    )


def describe(endpoint: str, stack_name: str) -> Deployment:
    cloudformation = Deployment(endpoint, stack_name, {}).client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return Deployment(endpoint, stack_name, outputs)


def api_keys_table(deployment: Deployment) -> ApiKeysTable:
    table = deployment.resource("dynamodb").Table(deployment.outputs["ApiKeysTableName"])
    return ApiKeysTable(table)


def issue_key(
    deployment: Deployment,
    role: Role,
    owner_id: str,
    merchants: list[str] | None = None,
    vocabulary: Vocabulary | None = None,
) -> str:
    key, _ = create_key(
        api_keys_table(deployment),
        role,
        owner_id,
        "local stack",
        merchants,
        vocabulary=vocabulary,
    )
    return key


def key_works(deployment: Deployment, key: str) -> bool:
    return key_is_live(api_keys_table(deployment), key)


@contextmanager
def running_stack(
    workdir: Path, stack_name: str, port: int | None = None, **deploy_options: Any
) -> Iterator[Deployment]:
    """MiniStack up and the stack deployed for the duration of the block; all stopped after.
    The mail its functions send through SES lands in the deployment's `mail_dir`
    (`<workdir>/mail/`, emptied at start)."""
    mail_receiver = SmtpReceiver(workdir / MAIL_DIR_NAME, free_port())
    ministack = MiniStack(port=port or free_port(), workdir=workdir, mail_receiver=mail_receiver)
    try:
        ministack.start()
        yield deploy(ministack, stack_name, **deploy_options)
    finally:
        ministack.stop()


def log(message: str) -> None:
    # A closed terminal (SIGHUP) must not stop a cleanup that logs as it goes.
    with suppress(OSError):
        print(f"[parcelhooks] {message}", file=sys.stderr, flush=True)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)
