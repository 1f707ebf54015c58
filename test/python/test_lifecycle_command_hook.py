"""The library as a Python user sees it: keyword arguments, the synthesized
template, and the exceptions raised for bad input."""
import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling

from cdk_lifecycle_command_hook import LifecycleCommandHook
from conftest import new_stack

TERMINAL_STATUSES = ["Success", "Failed", "TimedOut", "Cancelled", "Undeliverable", "Terminated"]


def test_terminate_hook_on_a_new_group(hook_app):
    group_ref = hook_app.ref(hook_app.group.auto_scaling_group_name)
    hook = hook_app.resource(hook_app.drain.lifecycle_hook.lifecycle_hook_name)
    assert hook["Type"] == "AWS::AutoScaling::LifecycleHook"
    assert hook["Properties"] == {
        "AutoScalingGroupName": group_ref,
        "DefaultResult": "CONTINUE",
        "HeartbeatTimeout": 300 + 60 + 60 + 2 * 900,
        "LifecycleHookName": hook_app.drain.lifecycle_hook_name,
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
    }
    # The hook exists only while its handler and rules do.
    handler_id = hook_app.ref(hook_app.drain.handler.function_name)["Ref"]
    assert handler_id in hook["DependsOn"]
    assert hook_app.drain.heartbeat_timeout.to_seconds() == 2220


def test_launch_hook_on_an_imported_group(hook_app):
    hook = hook_app.resource(hook_app.bootstrap.lifecycle_hook.lifecycle_hook_name)
    assert hook["Type"] == "AWS::AutoScaling::LifecycleHook"
    assert hook["Properties"] == {
        "AutoScalingGroupName": "web-fleet",
        "DefaultResult": "ABANDON",
        "HeartbeatTimeout": 900 + 180 + 60 + 60 + 2 * 900,
        "LifecycleHookName": "bootstrap",
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
    }
    assert hook_app.bootstrap.lifecycle_hook_name == "bootstrap"
    assert hook_app.bootstrap.heartbeat_timeout.to_seconds() == 3000


def test_each_hook_has_its_own_shell_document(hook_app):
    drain = hook_app.resource(hook_app.drain.document_name)["Properties"]
    assert drain == {
        "DocumentType": "Command",
        "UpdateMethod": "NewVersion",
        "Content": {
            "schemaVersion": "2.2",
            "description": "Commands run by a lifecycle hook as instances terminate.",
            "parameters": {
                "executionTimeout": {
                    "type": "String",
                    "default": "300",
                    "description": "How long the commands may run, in seconds.",
                    "allowedPattern": "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)",
                },
            },
            "mainSteps": [{
                "action": "aws:runShellScript",
                "name": "runCommands",
                "inputs": {"runCommand": ["set -e", "systemctl stop application", "sync"], "timeoutSeconds": "{{ executionTimeout }}"},
            }],
        },
    }
    bootstrap = hook_app.resource(hook_app.bootstrap.document_name)["Properties"]
    assert bootstrap["Content"]["mainSteps"][0]["inputs"] == {
        "runCommand": ["set -e", "/opt/app/bootstrap.sh", "curl --fail --retry 10 http://localhost/health"],
        "timeoutSeconds": "{{ executionTimeout }}",
        "workingDirectory": "/opt/app",
    }
    assert bootstrap["Content"]["parameters"]["executionTimeout"]["default"] == "900"


def _rules_of(hook_app, hook):
    handler_arn = hook_app.ref(hook.handler.function_arn)
    rules = hook_app.template.find_resources("AWS::Events::Rule")
    return {
        rule["Properties"]["EventPattern"]["source"][0]: rule["Properties"]
        for rule in rules.values()
        # The reconciliation pass's scheduled rule has no event pattern.
        if rule["Properties"]["Targets"][0]["Arn"] == handler_arn and "EventPattern" in rule["Properties"]
    }


def test_rules_match_only_this_group_hook_and_document(hook_app):
    # Per hook: its lifecycle events, its commands' statuses, and the reconciliation pass's schedule.
    hook_app.template.resource_count_is("AWS::Events::Rule", 6)

    drain = _rules_of(hook_app, hook_app.drain)
    assert drain["aws.autoscaling"]["EventPattern"] == {
        "source": ["aws.autoscaling"],
        "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
        "detail": {
            "AutoScalingGroupName": [hook_app.ref(hook_app.group.auto_scaling_group_name)],
            "LifecycleHookName": [hook_app.drain.lifecycle_hook_name],
        },
    }
    assert drain["aws.ssm"]["EventPattern"] == {
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Command Invocation Status-change Notification"],
        "detail": {"document-name": [hook_app.ref(hook_app.drain.document_name)], "status": TERMINAL_STATUSES},
    }

    bootstrap = _rules_of(hook_app, hook_app.bootstrap)
    assert bootstrap["aws.autoscaling"]["EventPattern"] == {
        "source": ["aws.autoscaling"],
        "detail-type": ["EC2 Instance-launch Lifecycle Action"],
        "detail": {"AutoScalingGroupName": ["web-fleet"], "LifecycleHookName": ["bootstrap"]},
    }
    assert bootstrap["aws.ssm"]["EventPattern"]["detail"] == {
        "document-name": [hook_app.ref(hook_app.bootstrap.document_name)],
        "status": TERMINAL_STATUSES,
    }
    for rule in [*drain.values(), *bootstrap.values()]:
        assert rule["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] == 185


def _table_of(hook_app, ref):
    """The properties of the DynamoDB table a `{"Ref": ...}` names."""
    table = hook_app.template.to_json()["Resources"][ref["Ref"]]
    assert table["Type"] == "AWS::DynamoDB::Table"
    return table["Properties"]


def test_handlers_get_their_hook_settings(hook_app):
    drain = hook_app.resource(hook_app.drain.handler.function_arn)["Properties"]
    assert drain["Runtime"] == "nodejs24.x"
    assert drain["Timeout"] == 60
    drain_variables = dict(drain["Environment"]["Variables"])
    assert _table_of(hook_app, drain_variables.pop("HOOK_ACTION_TABLE"))["BillingMode"] == "PAY_PER_REQUEST"
    assert drain_variables == {
        "HOOK_GROUP_NAME": hook_app.ref(hook_app.group.auto_scaling_group_name),
        "HOOK_NAME": hook_app.drain.lifecycle_hook_name,
        "HOOK_DOCUMENT_NAME": hook_app.ref(hook_app.drain.document_name),
        "HOOK_TRANSITION": "terminate",
        "HOOK_FAILURE_RESULT": "CONTINUE",
        "HOOK_OUTPUT_LOG_GROUP": hook_app.ref(hook_app.drain.output_log_group.log_group_name),
        "HOOK_REGISTRATION_TIMEOUT_SECONDS": "0",
        "HOOK_DELIVERY_TIMEOUT_SECONDS": "60",
        "HOOK_EXECUTION_TIMEOUT_SECONDS": "300",
        "HOOK_PASS_PERIOD_SECONDS": "900",
        "HOOK_HEARTBEAT_TIMEOUT_SECONDS": "2220",
        "HOOK_STAGES": "return-to-warm-pool,terminate",
    }
    bootstrap = hook_app.resource(hook_app.bootstrap.handler.function_arn)["Properties"]
    assert bootstrap["Timeout"] == 60  # the registration wait runs in a state machine, not in the function
    bootstrap_variables = dict(bootstrap["Environment"]["Variables"])
    # Each hook keeps its action records in a table of its own.
    bootstrap_table = bootstrap_variables.pop("HOOK_ACTION_TABLE")
    # A launch hook waits for the SSM agent in an Express state machine of its own, named in the ARN.
    wait_arn = json.dumps(bootstrap_variables.pop("HOOK_REGISTRATION_WAIT"))
    resources = hook_app.template.to_json()["Resources"].values()
    machines = [r["Properties"] for r in resources if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert [m["StateMachineType"] for m in machines] == ["EXPRESS"]
    assert f":stateMachine:{machines[0]['StateMachineName']}" in wait_arn
    assert _table_of(hook_app, bootstrap_table)["BillingMode"] == "PAY_PER_REQUEST"
    assert bootstrap_table != drain["Environment"]["Variables"]["HOOK_ACTION_TABLE"]
    assert bootstrap_variables == {
        "HOOK_GROUP_NAME": "web-fleet",
        "HOOK_NAME": "bootstrap",
        "HOOK_DOCUMENT_NAME": hook_app.ref(hook_app.bootstrap.document_name),
        "HOOK_TRANSITION": "launch",
        "HOOK_FAILURE_RESULT": "ABANDON",
        "HOOK_OUTPUT_LOG_GROUP": hook_app.ref(hook_app.bootstrap.output_log_group.log_group_name),
        "HOOK_REGISTRATION_TIMEOUT_SECONDS": "180",
        "HOOK_DELIVERY_TIMEOUT_SECONDS": "60",
        "HOOK_EXECUTION_TIMEOUT_SECONDS": "900",
        "HOOK_PASS_PERIOD_SECONDS": "900",
        "HOOK_HEARTBEAT_TIMEOUT_SECONDS": "3000",
        "HOOK_STAGES": "enter-warm-pool,leave-warm-pool,launch-into-group",
    }
    # The dead-letter queue members point at the queues the functions use.
    assert drain["DeadLetterConfig"]["TargetArn"] == hook_app.ref(hook_app.drain.dead_letter_queue.queue_arn)


def test_only_the_new_groups_instance_role_is_configured(hook_app):
    role = hook_app.resource(hook_app.group.role.role_name)["Properties"]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore"]]},
    ]
    # Two handler roles, the launch hook's registration wait role and the new group's
    # instance role; the imported group gets none.
    hook_app.template.resource_count_is("AWS::IAM::Role", 4)


# The messages are those the TypeScript tests expect; Python users get them as
# RuntimeError from the construct's constructor.
INVALID_PROPS = [
    pytest.param(
        {"commands": []},
        'LifecycleCommandHook: commands is empty; give at least one shell line, e.g. ["systemctl stop app"].',
        id="empty commands",
    ),
    pytest.param(
        {"commands": ["echo ok", "   "]},
        'LifecycleCommandHook: commands[1] is blank ("   "); every command must be a non-blank shell line.',
        id="blank command",
    ),
    pytest.param(
        {"timeout": cdk.Duration.seconds(10)},
        "LifecycleCommandHook: timeout is 10 seconds; it must be a whole number of seconds from 30 to 171780 "
        "(Auto Scaling's 172800-second global timeout of a lifecycle action less 120 seconds for delivery and completion "
        "and 900 seconds for the reconciliation pass that completes it if the command's status event is lost).",
        id="timeout too short",
    ),
    pytest.param(
        {"lifecycle_hook_name": "drain hook"},
        "LifecycleCommandHook: lifecycleHookName \"drain hook\" is not a valid lifecycle hook name; "
        "use 1 to 255 letters, digits, '-', '_' or '/'.",
        id="hook name with a space",
    ),
    pytest.param(
        {"registration_timeout": cdk.Duration.minutes(1)},
        "LifecycleCommandHook: registrationTimeout applies to launch hooks only (a terminating instance is "
        "already registered with SSM); remove it or use LifecycleTransition.INSTANCE_LAUNCHING.",
        id="registration timeout on a terminate hook",
    ),
    pytest.param(
        {"configure_instance_role": True},
        "LifecycleCommandHook: configureInstanceRole: the group is imported, not an AutoScalingGroup of this app, "
        "and its instance role is out of reach, so the construct cannot grant it AmazonSSMManagedInstanceCore and "
        "the right to write the output log group; the group's owner must grant them on the instance role "
        "(the README's \"Instance permissions\" has the policy); set configureInstanceRole: false once they are granted.",
        id="configure_instance_role=True on an imported group",
    ),
    pytest.param(
        {"notification_metadata": "env=café"},
        'LifecycleCommandHook: notificationMetadata has "é" (U+00E9) at character 7; Auto Scaling accepts 1 to 4000 '
        'characters, each printable ASCII (space to "~"), a tab or a line break; encode anything else, e.g. as base64.',
        id="notification metadata with a non-ASCII character",
    ),
]


@pytest.mark.parametrize("props, message", INVALID_PROPS)
def test_invalid_props_raise_the_construct_message(props, message):
    stack = new_stack()
    group = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    arguments = {
        "auto_scaling_group": group,
        "transition": autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
        "commands": ["systemctl stop application"],
        "timeout": cdk.Duration.minutes(5),
        **props,
    }
    with pytest.raises(RuntimeError) as raised:
        LifecycleCommandHook(stack, "Drain", **arguments)
    assert str(raised.value) == message


def test_a_string_for_commands_is_refused():
    # A str passes Python's check for Sequence[str]; jsii refuses it as the array the construct takes.
    stack = new_stack()
    group = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    with pytest.raises(RuntimeError, match=r"Key 'commands': Unable to deserialize value as array<string>"):
        LifecycleCommandHook(
            stack,
            "Drain",
            auto_scaling_group=group,
            transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
            commands="systemctl stop application",
            timeout=cdk.Duration.minutes(5),
        )


def test_a_missing_required_argument_is_a_type_error():
    stack = new_stack()
    group = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'timeout'"):
        LifecycleCommandHook(
            stack,
            "Drain",
            auto_scaling_group=group,
            transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
            commands=["systemctl stop application"],
        )
