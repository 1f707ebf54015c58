"""Keeping an instance whose drain failed, and Spot capacity, as a Python user
sees them: the props as keyword arguments, the group's policy in the template
(on the aws-cdk-lib floor, whose CfnAutoScalingGroup has no such property),
and the warnings with their acknowledgeable ids."""
import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Annotations, Match, Template

from cdk_lifecycle_command_hook import LifecycleCommandHook
from conftest import new_group, new_stack

RETENTION_WARNING = "cdk-lifecycle-command-hook:retentionNotConfigured"
SPOT_WARNING = "cdk-lifecycle-command-hook:timeoutBeyondSpotNotice"


def _drain(stack, group, **props):
    arguments = {
        "auto_scaling_group": group,
        "transition": autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
        "commands": ["systemctl stop application"],
        "timeout": cdk.Duration.minutes(2),
        **props,
    }
    return LifecycleCommandHook(stack, "Drain", **arguments)


def _only_group(template):
    [group] = template.find_resources("AWS::AutoScaling::AutoScalingGroup").values()
    return group["Properties"]


def test_retain_on_failure_sets_the_groups_policy_and_abandons_on_failure():
    stack = new_stack()
    _drain(stack, new_group(stack), retain_on_failure=True, configure_group_retention=True)
    template = Template.from_stack(stack)
    group = _only_group(template)
    assert group["InstanceLifecyclePolicy"] == {"RetentionTriggers": {"TerminateHookAbandon": "retain"}}
    [spec] = group["LifecycleHookSpecificationList"]
    assert spec["DefaultResult"] == "ABANDON"
    [parameter] = template.find_resources("AWS::SSM::Parameter").values()
    value = parameter["Properties"]["Value"]
    text = value if isinstance(value, str) else "".join(p if isinstance(p, str) else "token" for p in value["Fn::Join"][1])
    assert json.loads(text)["failureResult"] == "ABANDON"
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp(RETENTION_WARNING))


def test_retain_on_failure_on_an_imported_group_warns_until_acknowledged():
    stack = new_stack()
    fleet = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    _drain(stack, fleet, retain_on_failure=True, configure_instance_role=False)
    Template.from_stack(stack).has_resource_properties("AWS::AutoScaling::LifecycleHook", {"DefaultResult": "ABANDON"})
    Annotations.from_stack(stack).has_warning("/Hooks/Drain", Match.string_like_regexp(
        "the group is imported.*its owner sets InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon"))

    acknowledged = new_stack()
    fleet = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(acknowledged, "Fleet", "web-fleet")
    hook = _drain(acknowledged, fleet, retain_on_failure=True, configure_instance_role=False)
    cdk.Annotations.of(hook).acknowledge_warning(RETENTION_WARNING, "the fleet's owner sets the policy")
    Annotations.from_stack(acknowledged).has_no_warning("*", Match.string_like_regexp("retainOnFailure"))


INVALID_RETENTION = [
    pytest.param(
        {"transition": autoscaling.LifecycleTransition.INSTANCE_LAUNCHING, "retain_on_failure": True},
        r"^LifecycleCommandHook: retainOnFailure is true on a launch hook; ",
        id="retain_on_failure on a launch hook",
    ),
    pytest.param(
        {"retain_on_failure": True, "default_result": autoscaling.DefaultResult.CONTINUE},
        r"^LifecycleCommandHook: retainOnFailure is true and defaultResult is CONTINUE; ",
        id="retain_on_failure with CONTINUE",
    ),
    pytest.param(
        {"configure_group_retention": True},
        r"^LifecycleCommandHook: configureGroupRetention is true without retainOnFailure; ",
        id="configure_group_retention alone",
    ),
    pytest.param(
        {"retain_on_failure": True, "configure_group_retention": True, "imported": True},
        r"^LifecycleCommandHook: configureGroupRetention is true, but the group is imported, ",
        id="configure_group_retention on an imported group",
    ),
]


@pytest.mark.parametrize("props, pattern", INVALID_RETENTION)
def test_invalid_retention_props_raise_the_construct_message(props, pattern):
    stack = new_stack()
    props = dict(props)
    if props.pop("imported", False):
        group = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    else:
        group = new_group(stack)
    with pytest.raises(RuntimeError, match=pattern):
        _drain(stack, group, **props)


def _spot_group(stack, on_demand_percentage):
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    template = ec2.LaunchTemplate(
        stack,
        "Template",
        instance_type=ec2.InstanceType("t3.micro"),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(),
    )
    return autoscaling.AutoScalingGroup(
        stack,
        "Group",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        mixed_instances_policy=autoscaling.MixedInstancesPolicy(
            launch_template=template,
            instances_distribution=autoscaling.InstancesDistribution(
                on_demand_base_capacity=1,
                on_demand_percentage_above_base_capacity=on_demand_percentage,
            ),
        ),
    )


def test_a_terminate_hook_longer_than_a_spot_interruption_warns_on_spot_capacity_only():
    stack = new_stack()
    _drain(stack, _spot_group(stack, 25), timeout=cdk.Duration.minutes(5))
    Annotations.from_stack(stack).has_warning("/Hooks/Drain", Match.string_like_regexp(
        r"timeout is 300 seconds, and the group Hooks/Group runs Spot capacity.*\[ack: " + SPOT_WARNING + r"\]"))

    on_demand = new_stack()
    _drain(on_demand, _spot_group(on_demand, 100), timeout=cdk.Duration.minutes(5))
    Annotations.from_stack(on_demand).has_no_warning("*", Match.string_like_regexp(SPOT_WARNING))

    short = new_stack()
    _drain(short, _spot_group(short, 25), timeout=cdk.Duration.minutes(2))
    Annotations.from_stack(short).has_no_warning("*", Match.string_like_regexp(SPOT_WARNING))
