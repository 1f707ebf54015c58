"""A hook on an existing Command document or a script in S3, as a Python user
writes it: keyword arguments, a dict of parameters (a str or a list of str
each), an imported bucket, and the construct's messages for bad input."""
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from cdk_lifecycle_command_hook import CommandShell, LifecycleCommandHook
from conftest import new_stack


def _hook(stack, **props):
    group = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    return LifecycleCommandHook(
        stack,
        "Drain",
        auto_scaling_group=group,
        transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
        timeout=cdk.Duration.minutes(5),
        configure_instance_role=False,
        **props,
    )


def _content(stack, hook):
    resources = Template.from_stack(stack).to_json()["Resources"]
    return resources[stack.resolve(hook.document_name)["Ref"]]["Properties"]["Content"]


def test_a_document_with_its_version_and_parameters():
    stack = new_stack()
    hook = _hook(
        stack,
        document_name="team-drain",
        document_version="3",
        document_parameters={"queue": "orders", "services": ["web", "worker"]},
    )
    content = _content(stack, hook)
    # The hook keeps a document of its own, which runs the team's.
    assert content["mainSteps"] == [{
        "action": "aws:runDocument",
        "name": "runDocument",
        "inputs": {
            "documentType": "SSMDocument",
            "documentPath": "team-drain:3",
            "documentParameters": {"queue": "orders", "services": ["web", "worker"]},
        },
    }]
    assert content["parameters"]["executionTimeout"]["default"] == "300"


def test_aws_run_remote_script():
    stack = new_stack()
    hook = _hook(
        stack,
        document_name="AWS-RunRemoteScript",
        document_parameters={
            "sourceType": "S3",
            "sourceInfo": '{"path": "https://s3.eu-west-1.amazonaws.com/team-scripts/drain.sh"}',
            "commandLine": "drain.sh",
            "executionTimeout": "{{ executionTimeout }}",
        },
    )
    inputs = _content(stack, hook)["mainSteps"][0]["inputs"]
    assert inputs["documentPath"] == "AWS-RunRemoteScript"
    assert inputs["documentParameters"]["executionTimeout"] == "{{ executionTimeout }}"


def test_a_script_in_s3():
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Scripts", "team-scripts")
    hook = _hook(stack, script_bucket=bucket, script_key="ops/drain.sh")
    download, run = _content(stack, hook)["mainSteps"]
    assert download["action"] == "aws:downloadContent"
    assert download["inputs"]["sourceType"] == "S3"
    assert download["inputs"]["destinationPath"] == "drain.sh"
    assert stack.resolve(download["inputs"]["sourceInfo"]["path"]) == {
        "Fn::Join": ["", ["https://s3.eu-west-1.", {"Ref": "AWS::URLSuffix"}, "/team-scripts/ops/drain.sh"]],
    }
    assert run["action"] == "aws:runShellScript"
    assert run["inputs"]["runCommand"][-1] == 'exec "$LIFECYCLE_COMMAND_SCRIPT"'


BAD_INPUT = [
    pytest.param(
        {"commands": ["systemctl stop app"], "document_parameters": {"mode": "fast"}},
        "LifecycleCommandHook: documentParameters given with inline commands; they apply to documentName only.",
        id="parameters with inline commands",
    ),
    pytest.param(
        {"document_name": "team drain"},
        'LifecycleCommandHook: documentName "team drain" is not a valid SSM document name;',
        id="a document name with a space",
    ),
    pytest.param(
        {"document_name": "team-drain", "document_parameters": {"commandLine": "a.sh", "CommandLine": "b.sh"}},
        'LifecycleCommandHook: documentParameters names the parameter "CommandLine" twice, also as "commandLine";',
        id="a parameter named twice",
    ),
    pytest.param(
        {"document_name": "team-drain", "document_version": "latest"},
        'LifecycleCommandHook: documentVersion "latest" is not a document version;',
        id="a version that is no version",
    ),
    pytest.param(
        {},
        "LifecycleCommandHook: none of commands, documentName or scriptBucket is given;",
        id="nothing to run",
    ),
]


@pytest.mark.parametrize("props, message", BAD_INPUT)
def test_bad_input_raises_the_construct_message(props, message):
    with pytest.raises(RuntimeError, match="^" + re.escape(message)):
        _hook(new_stack(), **props)


def test_a_script_key_that_is_a_token_is_refused():
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Scripts", "team-scripts")
    key = cdk.CfnParameter(stack, "Key").value_as_string
    with pytest.raises(RuntimeError, match=re.escape("LifecycleCommandHook: scriptKey is a token;")):
        _hook(stack, script_bucket=bucket, script_key=key)


def test_a_powershell_script_must_end_in_ps1():
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Scripts", "team-scripts")
    with pytest.raises(RuntimeError, match=re.escape('LifecycleCommandHook: scriptKey "drain.sh" does not end in ".ps1";')):
        _hook(stack, script_bucket=bucket, script_key="drain.sh", shell=CommandShell.POWERSHELL)
