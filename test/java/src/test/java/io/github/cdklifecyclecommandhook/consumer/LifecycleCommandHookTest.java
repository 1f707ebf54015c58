package io.github.cdklifecyclecommandhook.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.cdklifecyclecommandhook.LifecycleCommandHook;
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
                "HeartbeatTimeout", 2220,
                "DefaultResult", "CONTINUE"));
        template.hasResourceProperties("AWS::AutoScaling::LifecycleHook", Map.of(
                "AutoScalingGroupName", "web-fleet",
                "LifecycleHookName", "bootstrap",
                "LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING",
                "HeartbeatTimeout", 3000,
                "DefaultResult", "ABANDON"));
        template.hasResourceProperties("AWS::SSM::Document", Map.of(
                "DocumentType", "Command",
                "Content", Map.of(
                        "parameters", Map.of("executionTimeout", Map.of("default", "900")),
                        "mainSteps", List.of(Map.of(
                                "action", "aws:runShellScript",
                                "inputs", Map.of("runCommand", List.of("set -e", "/opt/app/bootstrap.sh"), "timeoutSeconds", "{{ executionTimeout }}"))))));
        template.resourceCountIs("AWS::Events::Rule", 6);
        template.resourcePropertiesCountIs("AWS::Lambda::Function", Map.of("Runtime", "nodejs24.x"), 2);

        assertEquals(2220, drain.getHeartbeatTimeout().toSeconds());
        assertEquals(3000, bootstrap.getHeartbeatTimeout().toSeconds());
        assertEquals(Map.of("Ref", "BootstrapHook084086CE"),
                stack.resolve(((LifecycleHook) bootstrap.getLifecycleHook()).getLifecycleHookName()));
        assertEquals("bootstrap", bootstrap.getLifecycleHookName());
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
