"""Runs the Python example of docs/python.md (the README links to it) verbatim,
as `cdk synth` would run a user's app.py in an empty directory, then reads what
it synthesized into cdk.out/."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

PYTHON_DOC = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def readme_python_example() -> str:
    text = PYTHON_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"expected one python block in docs/python.md, found {len(blocks)}"
    return blocks[0]


def test_readme_python_example_synthesizes_both_hooks(tmp_path):
    (tmp_path / "app.py").write_text(readme_python_example(), encoding="utf-8")
    # The output directory is what `cdk synth` passes to the app.
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out")}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr

    templates = list((tmp_path / "cdk.out").glob("*.template.json"))
    assert [t.name for t in templates] == ["WebFleetHooks.template.json"]
    resources = json.loads(templates[0].read_text())["Resources"]

    hooks = sorted(
        (r["Properties"] for r in resources.values() if r["Type"] == "AWS::AutoScaling::LifecycleHook"),
        key=lambda p: p["LifecycleTransition"],
    )
    assert hooks == [
        {
            "AutoScalingGroupName": "web-fleet",
            "DefaultResult": "ABANDON",
            "HeartbeatTimeout": max(900, 180) + 600,
            "LifecycleHookName": "WebFleetHooks-Bootstrap-908496B3",
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        },
        {
            "AutoScalingGroupName": "web-fleet",
            "DefaultResult": "CONTINUE",
            "HeartbeatTimeout": 300 + 600,
            "LifecycleHookName": "WebFleetHooks-Drain-CB3C779E",
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
        },
    ]
    commands = sorted(
        r["Properties"]["Content"]["mainSteps"][0]["inputs"]["runCommand"]
        for r in resources.values() if r["Type"] == "AWS::SSM::Document"
    )
    assert commands == [["set -e", "/opt/app/bootstrap.sh"], ["set -e", "systemctl stop application"]]

    # The handler's code ships in the wheel and lands in the cloud assembly; both hooks share
    # the stack's runtime, so there is one function.
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1
    assets = json.loads((tmp_path / "cdk.out" / "WebFleetHooks.assets.json").read_text())["files"]
    for function in functions:
        asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        handler = tmp_path / "cdk.out" / assets[asset_hash]["source"]["path"] / "index.js"
        assert handler.is_file(), f"{handler} missing"
        assert "CompleteLifecycleAction" in handler.read_text()
