"""Shared fixtures: one app with both kinds of hook, built once per session.
Both hooks name no runtime, so they share the stack's `LifecycleCommandRuntime`.

Every jsii call crosses to a Node.js process, so the app is synthesized once
and the tests read the template.
"""
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from cdk_lifecycle_command_hook import LifecycleCommandHook, LifecycleCommandRuntime

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
# New groups get a launch template rather than a deprecated launch configuration.
CONTEXT = {"@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig": True}


@dataclass
class HookApp:
    stack: cdk.Stack
    group: autoscaling.AutoScalingGroup
    drain: LifecycleCommandHook
    bootstrap: LifecycleCommandHook
    runtime: LifecycleCommandRuntime
    template: Template

    def resource(self, token):
        """The template entry that a `{"Ref": ...}` or `{"Fn::GetAtt": ...}` token points to."""
        resolved = self.stack.resolve(token)
        logical_id = resolved["Ref"] if "Ref" in resolved else resolved["Fn::GetAtt"][0]
        return self.template.to_json()["Resources"][logical_id]

    def ref(self, token):
        return self.stack.resolve(token)


def new_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(context=CONTEXT), "Hooks", env=ENV)


def new_group(stack: cdk.Stack) -> autoscaling.AutoScalingGroup:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    return autoscaling.AutoScalingGroup(
        stack,
        "Group",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        instance_type=ec2.InstanceType("t3.micro"),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(),
    )


@pytest.fixture(scope="session")
def hook_app() -> HookApp:
    """A terminate hook on a new group and a launch hook on an imported one."""
    stack = new_stack()
    group = new_group(stack)
    drain = LifecycleCommandHook(
        stack,
        "Drain",
        auto_scaling_group=group,
        transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
        commands=["systemctl stop application", "sync"],
        timeout=cdk.Duration.minutes(5),
    )
    fleet = autoscaling.AutoScalingGroup.from_auto_scaling_group_name(stack, "Fleet", "web-fleet")
    bootstrap = LifecycleCommandHook(
        stack,
        "Bootstrap",
        auto_scaling_group=fleet,
        transition=autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
        commands=["/opt/app/bootstrap.sh", "curl --fail --retry 10 http://localhost/health"],
        timeout=cdk.Duration.minutes(15),
        lifecycle_hook_name="bootstrap",
        working_directory="/opt/app",
    )
    return HookApp(stack, group, drain, bootstrap, LifecycleCommandRuntime.of(stack), Template.from_stack(stack))
