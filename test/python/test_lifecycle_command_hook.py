"""The library as a Python user sees it: keyword arguments, the synthesized
template, and the exceptions raised for bad input."""
import hashlib
import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling

from aws_cdk.assertions import Template

from cdk_lifecycle_command_hook import LifecycleCommandHook, LifecycleCommandRuntime
from conftest import new_stack

TERMINAL_STATUSES = ["Success", "Failed", "TimedOut", "Cancelled", "Undeliverable", "Terminated"]


def _depends_on(hook_app, hook):
    """What the separate lifecycle hook resource of a hook on an imported group waits for."""
    return hook_app.resource(hook.lifecycle_hook.lifecycle_hook_name)["DependsOn"]


def _logical_id(hook_app, token):
    resolved = hook_app.ref(token)
    return resolved["Ref"] if "Ref" in resolved else resolved["Fn::GetAtt"][0]


def _group_tag(document_name):
    """The tag the construct places on a group of the same app for the hook of this document."""
    return {
        "key": "cdk-lifecycle-command-hook:" + hashlib.sha256(document_name.encode("utf-8")).hexdigest()[:12],
        "value": document_name,
    }


def _document_name(hook_app, hook):
    return hook_app.resource(hook.document_name)["Properties"]["Name"]


def test_terminate_hook_on_a_new_group(hook_app):
    group_id = _logical_id(hook_app, hook_app.group.auto_scaling_group_name)
    resources = hook_app.template.to_json()["Resources"]
    group = resources[group_id]
    assert group["Type"] == "AWS::AutoScaling::AutoScalingGroup"
    # The hook is in the group's own definition: no separate hook resource, and no member to point at one.
    assert hook_app.drain.lifecycle_hook is None
    assert group["Properties"]["LifecycleHookSpecificationList"] == [{
        "DefaultResult": "CONTINUE",
        # The longer of timeout and registration timeout, plus 10 minutes.
        "HeartbeatTimeout": 300 + 600,
        "LifecycleHookName": hook_app.drain.lifecycle_hook_name,
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
    }]
    # Only the imported group's hook is a resource of its own.
    lifecycle_hooks = hook_app.template.find_resources("AWS::AutoScaling::LifecycleHook")
    assert [h["Properties"]["LifecycleHookName"] for h in lifecycle_hooks.values()] == ["bootstrap"]
    # Its default name: the runtime's prefix, then the hook's unique name.
    assert re.fullmatch(re.escape(hook_app.runtime.name_prefix) + r"-Hooks-Drain-[0-9A-F]{8}", hook_app.drain.lifecycle_hook_name)
    assert hook_app.drain.heartbeat_timeout.to_seconds() == 900
    assert hook_app.drain.reconciliation_period.to_seconds() == 360

    # The group and its instances carry the hook's tag.
    tag = _group_tag(_document_name(hook_app, hook_app.drain))
    assert re.fullmatch(r"cdk-lifecycle-command-hook:[0-9a-f]{12}", tag["key"])
    assert group["Properties"]["Tags"] == [
        {"Key": tag["key"], "PropagateAtLaunch": True, "Value": tag["value"]},
        {"Key": "Name", "PropagateAtLaunch": True, "Value": "Hooks/Group"},
    ]

    # The group, and so its first instances, wait for the runtime's function, its rights and rules,
    # and the hook's own document, role, settings, rule and instance output policy.
    depends_on = group["DependsOn"]
    assert len(set(depends_on)) == len(depends_on)
    for token in [
        hook_app.runtime.handler.function_name,
        hook_app.drain.document_name,
        hook_app.drain.role.role_name,
    ]:
        assert _logical_id(hook_app, token) in depends_on
    [parameter_id] = [
        id for id, p in hook_app.template.find_resources("AWS::SSM::Parameter").items()
        if p["Properties"]["Name"] == hook_app.runtime.hook_parameter_path + _document_name(hook_app, hook_app.drain)
    ]
    assert parameter_id in depends_on
    [rule_id] = [
        id for id, rule in hook_app.template.find_resources("AWS::Events::Rule").items()
        if rule["Properties"].get("EventPattern", {}).get("detail", {}).get("LifecycleHookName") == [hook_app.drain.lifecycle_hook_name]
    ]
    assert rule_id in depends_on
    assert sorted(resources[d]["Type"] for d in depends_on) == sorted([
        "AWS::Events::Rule", "AWS::Events::Rule", "AWS::Events::Rule",  # its lifecycle rule, the status rule, the schedule
        "AWS::IAM::Policy", "AWS::IAM::Policy",  # the function's policy, the instance output policy
        "AWS::IAM::Role",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::SSM::Document",
        "AWS::SSM::Parameter",
    ])
    # A terminate hook needs no registration wait.
    assert all(resources[d]["Type"] != "AWS::StepFunctions::StateMachine" for d in depends_on)
    # None of what the group waits for refers to, or waits for, the group: no cycle.
    for d in depends_on:
        assert group_id not in json.dumps(resources[d]), d


def test_launch_hook_on_an_imported_group(hook_app):
    hook = hook_app.resource(hook_app.bootstrap.lifecycle_hook.lifecycle_hook_name)
    assert hook["Type"] == "AWS::AutoScaling::LifecycleHook"
    assert hook["Properties"] == {
        "AutoScalingGroupName": "web-fleet",
        "DefaultResult": "ABANDON",
        "HeartbeatTimeout": max(900, 180) + 600,
        "LifecycleHookName": "bootstrap",
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
    }
    assert hook_app.bootstrap.lifecycle_hook_name == "bootstrap"
    assert hook_app.bootstrap.heartbeat_timeout.to_seconds() == 1500
    # A launch hook also waits for the runtime's registration wait state machine.
    resources = hook_app.template.to_json()["Resources"]
    machines = [d for d in _depends_on(hook_app, hook_app.bootstrap) if resources[d]["Type"] == "AWS::StepFunctions::StateMachine"]
    assert len(machines) == 1
    assert machines[0].startswith("LifecycleCommandRuntime")


def _context_parameter(name, meaning):
    return {name: {
        "type": "String",
        "default": "",
        "description": f"{meaning} Given to the commands as the environment variable SSM_{name}.",
        "interpolationType": "ENV_VAR",
    }}


def test_each_hook_has_its_own_shell_document(hook_app):
    drain = hook_app.resource(hook_app.drain.document_name)["Properties"]
    # Named with the runtime's prefix, which the runtime's rule on command statuses matches.
    assert drain.pop("Name").startswith(hook_app.runtime.name_prefix + "-")
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
                # The action's context, given to the commands as environment variables, never as script text.
                **_context_parameter("EC2InstanceId", "The instance's id."),
                **_context_parameter("AutoScalingGroupName", "The Auto Scaling group's name."),
                **_context_parameter("LifecycleHookName", "The lifecycle hook's name."),
                **_context_parameter(
                    "LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING or autoscaling:EC2_INSTANCE_TERMINATING.",
                ),
                **_context_parameter(
                    "Origin", "Where the instance comes from (EC2, AutoScalingGroup or WarmPool); empty when the event does not say.",
                ),
                **_context_parameter(
                    "Destination", "Where the instance goes (AutoScalingGroup, WarmPool or EC2); empty when the event does not say.",
                ),
                **_context_parameter("NotificationMetadata", "The lifecycle hook's notification metadata; empty when it has none."),
            },
            "mainSteps": [{
                "action": "aws:runShellScript",
                "name": "runCommands",
                "inputs": {"runCommand": ["set -e", "systemctl stop application", "sync"], "timeoutSeconds": "{{ executionTimeout }}"},
            }],
        },
    }
    bootstrap = hook_app.resource(hook_app.bootstrap.document_name)["Properties"]
    assert bootstrap["Name"].startswith(hook_app.runtime.name_prefix + "-")
    assert bootstrap["Name"] != hook_app.resource(hook_app.drain.document_name)["Properties"]["Name"]
    assert bootstrap["Content"]["mainSteps"][0]["inputs"] == {
        "runCommand": ["set -e", "/opt/app/bootstrap.sh", "curl --fail --retry 10 http://localhost/health"],
        "timeoutSeconds": "{{ executionTimeout }}",
        "workingDirectory": "/opt/app",
    }
    assert bootstrap["Content"]["parameters"]["executionTimeout"]["default"] == "900"


def _text(value):
    """A template string value with each token in it written as a «placeholder» that fits inside JSON."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_text(part) for part in parts)
    if "Ref" in value:
        return f"«{value['Ref']}»"
    if "Fn::GetAtt" in value:
        return f"«{'.'.join(value['Fn::GetAtt'])}»"
    raise AssertionError(f"unexpected token {value}")


def _expected_settings(hook_app, hook, **settings):
    """A hook's settings as its rule and its parameter carry them, with its own tokens as placeholders."""
    return {
        "documentName": hook_app.resource(hook.document_name)["Properties"]["Name"],
        "outputLogGroupName": _text(hook_app.ref(hook.output_log_group.log_group_name)),
        "deliveryTimeoutSeconds": 60,
        "roleArn": _text(hook_app.ref(hook.role.role_arn)),
        **settings,
    }


DRAIN_SETTINGS = {
    "transition": "terminate",
    "failureResult": "CONTINUE",
    "registrationTimeoutSeconds": 0,
    "executionTimeoutSeconds": 300,
    "heartbeatTimeoutSeconds": 900,
    "stages": "return-to-warm-pool,terminate",
}
BOOTSTRAP_SETTINGS = {
    "groupName": "web-fleet",
    "hookName": "bootstrap",
    "transition": "launch",
    "failureResult": "ABANDON",
    "registrationTimeoutSeconds": 180,
    "executionTimeoutSeconds": 900,
    "heartbeatTimeoutSeconds": 1500,
    "stages": "enter-warm-pool,leave-warm-pool,launch-into-group",
}


def _lifecycle_rule_of(hook_app, hook):
    """The one rule whose pattern matches this hook's lifecycle events."""
    rules = [
        rule["Properties"] for rule in hook_app.template.find_resources("AWS::Events::Rule").values()
        if rule["Properties"].get("EventPattern", {}).get("source") == ["aws.autoscaling"]
        and rule["Properties"]["EventPattern"]["detail"]["LifecycleHookName"] == [hook.lifecycle_hook_name]
    ]
    assert len(rules) == 1
    return rules[0]


def test_rules_match_only_their_hooks_events_and_the_runtimes_documents(hook_app):
    # One lifecycle rule per hook; the runtime's rule on command statuses and its reconciliation schedule.
    hook_app.template.resource_count_is("AWS::Events::Rule", 4)
    handler_arn = hook_app.ref(hook_app.runtime.handler.function_arn)
    queue_arn = hook_app.ref(hook_app.runtime.dead_letter_queue.queue_arn)

    drain = _lifecycle_rule_of(hook_app, hook_app.drain)
    assert drain["EventPattern"] == {
        "source": ["aws.autoscaling"],
        "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
        # The group of the same app is not named (it waits for this rule): the hook's name, which
        # bears the runtime's prefix, is enough.
        "detail": {"LifecycleHookName": [hook_app.drain.lifecycle_hook_name]},
    }
    assert hook_app.drain.lifecycle_hook_name.startswith(hook_app.runtime.name_prefix + "-")
    bootstrap = _lifecycle_rule_of(hook_app, hook_app.bootstrap)
    assert bootstrap["EventPattern"] == {
        "source": ["aws.autoscaling"],
        "detail-type": ["EC2 Instance-launch Lifecycle Action"],
        "detail": {"AutoScalingGroupName": ["web-fleet"], "LifecycleHookName": ["bootstrap"]},
    }
    for rule in (drain, bootstrap):
        # Named with the runtime's prefix: the function lets EventBridge invoke it from such rules only.
        assert rule["Name"].startswith(hook_app.runtime.name_prefix + "-")
        [target] = rule["Targets"]
        assert target["Arn"] == handler_arn
        assert target["DeadLetterConfig"] == {"Arn": queue_arn}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185

    statuses = [
        rule["Properties"] for rule in hook_app.template.find_resources("AWS::Events::Rule").values()
        if rule["Properties"].get("EventPattern", {}).get("source") == ["aws.ssm"]
    ]
    assert len(statuses) == 1
    assert statuses[0]["EventPattern"] == {
        "source": ["aws.ssm"],
        "detail-type": ["EC2 Command Invocation Status-change Notification"],
        "detail": {"document-name": [{"prefix": hook_app.runtime.name_prefix + "-"}], "status": TERMINAL_STATUSES},
    }
    assert statuses[0]["Targets"][0]["Arn"] == handler_arn

    schedules = [
        rule["Properties"] for rule in hook_app.template.find_resources("AWS::Events::Rule").values()
        if "ScheduleExpression" in rule["Properties"]
    ]
    assert [s["ScheduleExpression"] for s in schedules] == ["rate(6 minutes)"]
    assert schedules[0]["Targets"][0]["Arn"] == handler_arn
    assert schedules[0]["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] == 0


def _drain_settings(hook_app):
    """The settings of the hook on the group of the same app: the group by its tag, never by its name."""
    return {
        "groupTag": _group_tag(_document_name(hook_app, hook_app.drain)),
        "hookName": hook_app.drain.lifecycle_hook_name,
        **DRAIN_SETTINGS,
    }


def _rule_input(transformer):
    """The input a rule's transformer gives the function, each placeholder put back as the string
    "<path>" of what EventBridge puts there. A placeholder stands unquoted (EventBridge quotes a
    string it inserts) and each path of the map is used once."""
    template = _text(transformer["InputTemplate"])
    for name, path in transformer["InputPathsMap"].items():
        assert template.count(f"<{name}>") == 1, name
        assert f'"<{name}>' not in template and f'<{name}>"' not in template, name
        template = template.replace(f"<{name}>", json.dumps(f"<{path}>"))
    return json.loads(template)


def test_each_hooks_rule_wraps_its_events_with_its_settings(hook_app):
    for hook, settings, paths in [
        # The rule of a hook on a group of the same app adds the group's name from the lifecycle event.
        (hook_app.drain, {**_drain_settings(hook_app), "groupName": "<$.detail.AutoScalingGroupName>"},
         ["$", "$.detail.AutoScalingGroupName"]),
        (hook_app.bootstrap, BOOTSTRAP_SETTINGS, ["$"]),
    ]:
        transformer = _lifecycle_rule_of(hook_app, hook)["Targets"][0]["InputTransformer"]
        assert sorted(transformer["InputPathsMap"].values()) == paths
        assert _rule_input(transformer) == {
            "hook": _expected_settings(hook_app, hook, **settings),
            "event": "<$>",
        }


def test_each_hook_keeps_its_settings_in_a_parameter_under_the_runtimes_path(hook_app):
    hook_app.template.resource_count_is("AWS::SSM::Parameter", 2)
    for hook, settings in [
        (hook_app.drain, _drain_settings(hook_app)),
        (hook_app.bootstrap, BOOTSTRAP_SETTINGS),
    ]:
        expected = _expected_settings(hook_app, hook, **settings)
        [parameter] = [
            p["Properties"] for p in hook_app.template.find_resources("AWS::SSM::Parameter").values()
            if p["Properties"]["Name"] == hook_app.runtime.hook_parameter_path + expected["documentName"]
        ]
        assert parameter["Type"] == "String"
        assert json.loads(_text(parameter["Value"])) == expected


def _table_of(hook_app, ref):
    """The properties of the DynamoDB table a `{"Ref": ...}` names."""
    table = hook_app.template.to_json()["Resources"][ref["Ref"]]
    assert table["Type"] == "AWS::DynamoDB::Table"
    return table["Properties"]


def test_one_function_serves_both_hooks(hook_app):
    hook_app.template.resource_count_is("AWS::Lambda::Function", 1)
    hook_app.template.resource_count_is("AWS::DynamoDB::Table", 1)
    hook_app.template.resource_count_is("AWS::SQS::Queue", 1)
    handler_arn = hook_app.ref(hook_app.runtime.handler.function_arn)
    assert hook_app.ref(hook_app.drain.handler.function_arn) == handler_arn
    assert hook_app.ref(hook_app.bootstrap.handler.function_arn) == handler_arn
    assert hook_app.drain.runtime.node.path == hook_app.bootstrap.runtime.node.path == hook_app.runtime.node.path

    function = hook_app.resource(hook_app.runtime.handler.function_arn)["Properties"]
    assert function["Runtime"] == "nodejs24.x"
    assert function["Timeout"] == 60  # the registration wait runs in a state machine, not in the function
    variables = dict(function["Environment"]["Variables"])
    # All hooks keep their action records in the runtime's one table.
    assert _table_of(hook_app, variables.pop("RUNTIME_ACTION_TABLE"))["BillingMode"] == "PAY_PER_REQUEST"
    # The runtime serves a launch hook: it waits for the SSM agent in an Express state machine, named in the ARN.
    wait_arn = json.dumps(variables.pop("RUNTIME_REGISTRATION_WAIT"))
    resources = hook_app.template.to_json()["Resources"].values()
    machines = [r["Properties"] for r in resources if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert [m["StateMachineType"] for m in machines] == ["EXPRESS"]
    assert f":stateMachine:{machines[0]['StateMachineName']}" in wait_arn
    # The hooks' own settings come with their events or from their parameters, not from the environment.
    assert variables == {
        "RUNTIME_PASS_PERIOD_SECONDS": "360",
        "RUNTIME_HOOK_PARAMETERS": hook_app.runtime.hook_parameter_path,
        "RUNTIME_NAME_PREFIX": hook_app.runtime.name_prefix,
    }
    assert hook_app.runtime.hook_parameter_path == f"/cdk-lifecycle-command-hook/{hook_app.runtime.name_prefix}/"
    # The dead-letter queue members point at the queue the function uses.
    queue_arn = hook_app.ref(hook_app.runtime.dead_letter_queue.queue_arn)
    assert function["DeadLetterConfig"]["TargetArn"] == queue_arn
    assert hook_app.ref(hook_app.drain.dead_letter_queue.queue_arn) == queue_arn
    assert hook_app.ref(hook_app.bootstrap.dead_letter_queue.queue_arn) == queue_arn


def test_each_hook_has_a_role_that_only_the_function_assumes(hook_app):
    function_role = hook_app.ref(hook_app.runtime.role.role_arn)
    drain_tag = _group_tag(_document_name(hook_app, hook_app.drain))
    # The hook on the group of the same app names no group: its conditions are on the tag the group
    # carries. The hook on the imported group names it.
    for hook, instance_condition, group_arn_end, group_condition in [
        (hook_app.drain,
         {"StringEquals": {f"ssm:resourceTag/{drain_tag['key']}": drain_tag["value"]}},
         ":autoScalingGroupName/*",
         {"StringEquals": {f"autoscaling:ResourceTag/{drain_tag['key']}": drain_tag["value"]}}),
        (hook_app.bootstrap,
         {"StringEquals": {"ssm:resourceTag/aws:autoscaling:groupName": "web-fleet"}},
         ":autoScalingGroupName/web-fleet",
         None),
    ]:
        role = hook_app.resource(hook.role.role_name)["Properties"]
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": function_role}},
        ]
        assert role["Path"] == hook_app.runtime.hook_role_path
        [policy] = role["Policies"]
        statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
        assert sorted(statements) == ["GroupLifecycleActions", "SendHookDocument", "SendToGroupInstances"]
        document_name = hook_app.resource(hook.document_name)["Properties"]["Name"]
        assert _text(statements["SendHookDocument"]["Resource"]).endswith(f":document/{document_name}")
        assert statements["SendToGroupInstances"]["Condition"] == instance_condition
        assert _text(statements["GroupLifecycleActions"]["Resource"]).endswith(group_arn_end)
        assert statements["GroupLifecycleActions"].get("Condition") == group_condition
    # The role of the hook on the group of the same app does not refer to the group.
    group_id = _logical_id(hook_app, hook_app.group.auto_scaling_group_name)
    assert group_id not in json.dumps(hook_app.resource(hook_app.drain.role.role_name))


def test_only_the_new_groups_instance_role_is_configured(hook_app):
    role = hook_app.resource(hook_app.group.role.role_name)["Properties"]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore"]]},
    ]
    # The function's role, the two hooks' roles, the registration wait's role and the new
    # group's instance role; the imported group gets none.
    hook_app.template.resource_count_is("AWS::IAM::Role", 5)


def _hook(stack, id, group, **props):
    return LifecycleCommandHook(
        stack,
        id,
        auto_scaling_group=group,
        transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
        commands=["systemctl stop application"],
        timeout=cdk.Duration.minutes(5),
        **props,
    )


def test_two_hooks_in_one_stack_share_one_function():
    stack = new_stack()
    fleet = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    first = _hook(stack, "First", fleet)
    second = _hook(stack, "Second", fleet)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.resource_count_is("AWS::AutoScaling::LifecycleHook", 2)
    template.resource_count_is("AWS::SSM::Document", 2)
    shared = LifecycleCommandRuntime.of(stack)
    assert first.runtime.node.path == second.runtime.node.path == shared.node.path
    [function_id] = template.find_resources("AWS::Lambda::Function")
    assert stack.resolve(first.handler.function_arn) == {"Fn::GetAtt": [function_id, "Arn"]}
    assert stack.resolve(second.handler.function_arn) == {"Fn::GetAtt": [function_id, "Arn"]}
    # Each hook still has a role of its own, which the one function assumes.
    assert stack.resolve(first.role.role_arn) != stack.resolve(second.role.role_arn)


def test_a_runtime_of_its_own_gives_a_hook_a_second_function():
    stack = new_stack()
    fleet = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    shared_hook = _hook(stack, "Shared", fleet)
    isolated = LifecycleCommandRuntime(stack, "Isolated")
    isolated_hook = _hook(stack, "Apart", fleet, runtime=isolated)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 2)
    template.resource_count_is("AWS::DynamoDB::Table", 2)
    template.resource_count_is("AWS::SQS::Queue", 2)
    assert isolated_hook.runtime.node.path == isolated.node.path
    assert shared_hook.runtime.node.path == LifecycleCommandRuntime.of(stack).node.path != isolated.node.path
    isolated_arn = stack.resolve(isolated.handler.function_arn)
    shared_arn = stack.resolve(shared_hook.handler.function_arn)
    assert stack.resolve(isolated_hook.handler.function_arn) == isolated_arn != shared_arn
    assert isolated.name_prefix != shared_hook.runtime.name_prefix

    resources = template.to_json()["Resources"]
    # The hook's document and rule carry its runtime's prefix, and its rule invokes that runtime's function.
    document = resources[stack.resolve(isolated_hook.document_name)["Ref"]]["Properties"]
    assert document["Name"].startswith(isolated.name_prefix + "-")
    rules = [
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::Events::Rule" and r["Properties"].get("EventPattern", {}).get("source") == ["aws.autoscaling"]
    ]
    targets = {r["EventPattern"]["detail"]["LifecycleHookName"][0]: r["Targets"][0]["Arn"] for r in rules}
    assert targets == {
        shared_hook.lifecycle_hook_name: shared_arn,
        isolated_hook.lifecycle_hook_name: isolated_arn,
    }
    # The hook's role is assumed by its own runtime's function role only.
    role = resources[stack.resolve(isolated_hook.role.role_arn)["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": stack.resolve(isolated.role.role_arn)}


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
        "LifecycleCommandHook: timeout is 10 seconds; it must be a whole number of seconds from 30 to 172320 "
        "(Auto Scaling's 172800-second global timeout of a lifecycle action less 120 seconds for delivery and completion "
        "and 360 seconds for the reconciliation pass that completes it if the command's status event is lost).",
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
