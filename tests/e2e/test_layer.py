"""The built layer alone (plus what the Lambda runtime ships) must import every function.

Locally, functions also see MiniStack's own packages, which could hide a dependency
missing from the layer; this imports each handler with nothing but the layer.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from devstack.stack import ROOT, Deployment
from devstack.template import FUNCTIONS, function_environment, resources

BUILD = ROOT / ".aws-sam" / "local-build"
# What the python3.13 Lambda runtime provides itself.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "dateutil", "six", "urllib3")

PROBE = """
import importlib, importlib.abc, importlib.machinery, sys
runtime, site = sys.argv[1].split(","), sys.argv[2]

class RuntimeProvided(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in runtime and path is None:
            return importlib.machinery.PathFinder.find_spec(name, [site])
        return None

sys.meta_path.append(RuntimeProvided())
import app
print("imported", app.__name__, app.handler.__name__)
"""


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_each_function_imports_with_only_its_layer(stack: Deployment, function: str) -> None:
    layer = BUILD / "ParcelhooksLayer" / "python"
    code = BUILD / function
    assert layer.is_dir() and code.is_dir()
    stdlib = [p for p in sys.path if p and "site-packages" not in p and Path(p).exists()]
    # Handlers validate their settings on import: give each the variables the template does.
    names = [
        *resources("AWS::DynamoDB::Table"),
        *resources("AWS::SQS::Queue"),
        *resources("AWS::KMS::Key"),
    ]
    env = {
        "PYTHONPATH": "",
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
        **function_environment(function, {name: name for name in names}),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            "-I",
            "-c",
            f"import sys; sys.path[:] = {[str(code), str(layer), *stdlib]!r}\n" + PROBE,
            ",".join(RUNTIME_PROVIDED),
            sysconfig.get_paths()["purelib"],
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "imported app handler" in result.stdout


def test_the_layer_holds_its_pinned_requirements(stack: Deployment) -> None:
    layer = BUILD / "ParcelhooksLayer" / "python"
    pins = [
        line.split("==")
        for line in (ROOT / "layers/parcelhooks/requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    ]
    for name, version in pins:
        dist = name.replace("-", "_")
        assert (layer / f"{dist}-{version}.dist-info").is_dir(), f"{name}=={version} not in layer"
