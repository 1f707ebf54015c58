package io.github.cdklifecyclecommandhook.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.cdklifecyclecommandhook.LifecycleCommandHook;
import io.github.cdklifecyclecommandhook.LifecycleCommandRuntime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.services.autoscaling.AutoScalingGroup;
import software.amazon.awscdk.services.autoscaling.IAutoScalingGroup;
import software.amazon.awscdk.services.autoscaling.LifecycleHook;
import software.amazon.awscdk.services.autoscaling.LifecycleTransition;
import software.amazon.awscdk.services.ec2.InstanceType;
import software.amazon.awscdk.services.ec2.MachineImage;
import software.amazon.awscdk.services.ec2.SubnetSelection;
import software.amazon.awscdk.services.ec2.SubnetType;
import software.amazon.awscdk.services.ec2.Vpc;

class LifecycleCommandHookTest {

    private static Stack newStack() {
        // New groups get a launch template rather than a deprecated launch configuration.
        App app = new App(AppProps.builder()
                .context(Map.of("@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig", true))
                .build());
        return new Stack(app, "Hooks", StackProps.builder()
                .env(Environment.builder().account("123456789012").region("eu-west-1").build())
                .build());
    }

    @Test
    void synthesizesATerminateHookOnANewGroupAndALaunchHookOnAnImportedOne() {
        Stack stack = newStack();
        Vpc vpc = Vpc.Builder.create(stack, "Vpc").maxAzs(1).natGateways(0).build();
        AutoScalingGroup group = AutoScalingGroup.Builder.create(stack, "Group")
                .vpc(vpc)
                .vpcSubnets(SubnetSelection.builder().subnetType(SubnetType.PUBLIC).build())
                .instanceType(new InstanceType("t3.micro"))
                .machineImage(MachineImage.latestAmazonLinux2023())
                .build();
        LifecycleCommandHook drain = LifecycleCommandHook.Builder.create(stack, "Drain")
                .autoScalingGroup(group)
                .transition(LifecycleTransition.INSTANCE_TERMINATING)
                .commands(List.of("systemctl stop application"))
                .timeout(Duration.minutes(5))
                .build();
        IAutoScalingGroup fleet = AutoScalingGroup.fromAutoScalingGroupName(stack, "Fleet", "web-fleet");
        LifecycleCommandHook bootstrap = LifecycleCommandHook.Builder.create(stack, "Bootstrap")
                .autoScalingGroup(fleet)
                .transition(LifecycleTransition.INSTANCE_LAUNCHING)
                .commands(List.of("/opt/app/bootstrap.sh"))
                .timeout(Duration.minutes(15))
                .lifecycleHookName("bootstrap")
                .build();

        Template template = Template.fromStack(stack);
        template.resourceCountIs("AWS::AutoScaling::LifecycleHook", 2);
        template.hasResourceProperties("AWS::AutoScaling::LifecycleHook", Map.of(
                "AutoScalingGroupName", stack.resolve(group.getAutoScalingGroupName()),
                "LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING",
                "HeartbeatTimeout", 900,
                "DefaultResult", "CONTINUE"));
        template.hasResourceProperties("AWS::AutoScaling::LifecycleHook", Map.of(
                "AutoScalingGroupName", "web-fleet",
                "LifecycleHookName", "bootstrap",
                "LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING",
                "HeartbeatTimeout", 1500,
                "DefaultResult", "ABANDON"));
        template.hasResourceProperties("AWS::SSM::Document", Map.of(
                "DocumentType", "Command",
                "Content", Map.of(
                        "parameters", Map.of("executionTimeout", Map.of("default", "900")),
                        "mainSteps", List.of(Map.of(
                                "action", "aws:runShellScript",
                                "inputs", Map.of("runCommand", List.of("set -e", "/opt/app/bootstrap.sh"), "timeoutSeconds", "{{ executionTimeout }}"))))));
        // One lifecycle rule per hook; the shared runtime's rule on command statuses and its schedule.
        template.resourceCountIs("AWS::Events::Rule", 4);
        // Both hooks share the stack's runtime: one function, with a 60-second timeout.
        template.resourcePropertiesCountIs("AWS::Lambda::Function", Map.of("Runtime", "nodejs24.x", "Timeout", 60), 1);
        template.resourceCountIs("AWS::Lambda::Function", 1);
        // The launch hook's registration wait belongs to the runtime.
        template.resourceCountIs("AWS::StepFunctions::StateMachine", 1);

        LifecycleCommandRuntime shared = LifecycleCommandRuntime.of(stack);
        assertEquals(shared.getNode().getPath(), drain.getRuntime().getNode().getPath());
        assertEquals(shared.getNode().getPath(), bootstrap.getRuntime().getNode().getPath());
        assertEquals(stack.resolve(shared.getHandler().getFunctionArn()), stack.resolve(drain.getHandler().getFunctionArn()));
        assertEquals(stack.resolve(shared.getHandler().getFunctionArn()), stack.resolve(bootstrap.getHandler().getFunctionArn()));
        // Each hook has a role of its own, which the shared function assumes.
        assertNotEquals(stack.resolve(drain.getRole().getRoleArn()), stack.resolve(bootstrap.getRole().getRoleArn()));
        assertEquals(360, drain.getReconciliationPeriod().toSeconds());

        assertEquals(900, drain.getHeartbeatTimeout().toSeconds());
        assertEquals(1500, bootstrap.getHeartbeatTimeout().toSeconds());
        assertEquals(Map.of("Ref", "BootstrapHook084086CE"),
                stack.resolve(((LifecycleHook) bootstrap.getLifecycleHook()).getLifecycleHookName()));
        assertEquals("bootstrap", bootstrap.getLifecycleHookName());
    }

    @Test
    void aRuntimeOfItsOwnGivesAHookASecondFunction() {
        Stack stack = newStack();
        IAutoScalingGroup fleet = AutoScalingGroup.fromAutoScalingGroupName(stack, "Fleet", "web-fleet");
        LifecycleCommandHook sharedHook = LifecycleCommandHook.Builder.create(stack, "Shared")
                .autoScalingGroup(fleet)
                .transition(LifecycleTransition.INSTANCE_TERMINATING)
                .commands(List.of("systemctl stop application"))
                .timeout(Duration.minutes(5))
                .build();
        LifecycleCommandRuntime isolated = new LifecycleCommandRuntime(stack, "Isolated");
        LifecycleCommandHook apart = LifecycleCommandHook.Builder.create(stack, "Apart")
                .autoScalingGroup(fleet)
                .transition(LifecycleTransition.INSTANCE_TERMINATING)
                .commands(List.of("systemctl stop application"))
                .timeout(Duration.minutes(5))
                .runtime(isolated)
                .build();

        Template template = Template.fromStack(stack);
        template.resourceCountIs("AWS::Lambda::Function", 2);
        template.resourceCountIs("AWS::DynamoDB::Table", 2);
        assertEquals(isolated.getNode().getPath(), apart.getRuntime().getNode().getPath());
        assertEquals(stack.resolve(isolated.getHandler().getFunctionArn()), stack.resolve(apart.getHandler().getFunctionArn()));
        assertNotEquals(stack.resolve(sharedHook.getHandler().getFunctionArn()), stack.resolve(apart.getHandler().getFunctionArn()));
        assertNotEquals(isolated.getNamePrefix(), sharedHook.getRuntime().getNamePrefix());
        // The hook's lifecycle rule invokes its own runtime's function.
        template.hasResourceProperties("AWS::Events::Rule", Map.of(
                "EventPattern", Map.of("detail", Map.of("LifecycleHookName", List.of(apart.getLifecycleHookName()))),
                "Targets", List.of(Map.of("Arn", stack.resolve(isolated.getHandler().getFunctionArn())))));
    }

    @Test
    void emptyCommandsThrowTheConstructMessage() {
        Stack stack = newStack();
        IAutoScalingGroup fleet = AutoScalingGroup.fromAutoScalingGroupName(stack, "Fleet", "web-fleet");
        RuntimeException error = assertThrows(RuntimeException.class, () -> LifecycleCommandHook.Builder.create(stack, "Drain")
                .autoScalingGroup(fleet)
                .transition(LifecycleTransition.INSTANCE_TERMINATING)
                .commands(List.of())
                .timeout(Duration.minutes(5))
                .build());
        // The message is followed by the JavaScript stack, one frame a line.
        assertEquals(
                "LifecycleCommandHook: commands is empty; give at least one shell line, e.g. [\"systemctl stop app\"].",
                error.getMessage().lines().findFirst().orElseThrow());
    }
}
