package io.github.cdklifecyclecommandhook.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.cdklifecyclecommandhook.LifecycleCommandHook;
import io.github.cdklifecyclecommandhook.LifecycleCommandRuntime;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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

    /** The tag the construct places on a group of the same app for the hook of this document: key, then value. */
    private static List<String> groupTag(String documentName) throws NoSuchAlgorithmException {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(documentName.getBytes(StandardCharsets.UTF_8));
        return List.of("cdk-lifecycle-command-hook:" + HexFormat.of().formatHex(digest).substring(0, 12), documentName);
    }

    /** The one resource of this type in the template. */
    @SuppressWarnings("unchecked")
    private static Map.Entry<String, Map<String, Object>> onlyResource(Template template, String type) {
        Map<String, Map<String, Object>> found = (Map<String, Map<String, Object>>) (Map<String, ?>) template.findResources(type);
        assertEquals(1, found.size(), type);
        return found.entrySet().iterator().next();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    @Test
    void synthesizesATerminateHookOnANewGroupAndALaunchHookOnAnImportedOne() throws NoSuchAlgorithmException {
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
        // The hook on the new group is in the group's own definition; the imported group's is a resource of its own.
        template.resourceCountIs("AWS::AutoScaling::LifecycleHook", 1);
        Map.Entry<String, Map<String, Object>> groupResource = onlyResource(template, "AWS::AutoScaling::AutoScalingGroup");
        String groupId = groupResource.getKey();
        assertEquals(Map.of("Ref", groupId), stack.resolve(group.getAutoScalingGroupName()));
        Map<String, Object> groupProperties = map(groupResource.getValue().get("Properties"));
        assertEquals(List.of(Map.of(
                "LifecycleHookName", drain.getLifecycleHookName(),
                "LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING",
                "HeartbeatTimeout", 900,
                "DefaultResult", "CONTINUE")), groupProperties.get("LifecycleHookSpecificationList"));
        assertNull(drain.getLifecycleHook());
        // The default name: the runtime's prefix, then the hook's unique name.
        LifecycleCommandRuntime runtime = LifecycleCommandRuntime.of(stack);
        assertTrue(drain.getLifecycleHookName().matches(runtime.getNamePrefix() + "-Hooks-Drain-[0-9A-F]{8}"), drain.getLifecycleHookName());

        // The group and its instances carry the hook's tag, and the hook's role is scoped by it.
        Map<String, Object> resources = map(template.toJSON().get("Resources"));
        String documentId = (String) map(stack.resolve(drain.getDocumentName())).get("Ref");
        String documentName = (String) map(map(resources.get(documentId)).get("Properties")).get("Name");
        List<String> tag = groupTag(documentName);
        assertEquals(List.of(
                Map.of("Key", tag.get(0), "Value", tag.get(1), "PropagateAtLaunch", true),
                Map.of("Key", "Name", "Value", "Hooks/Group", "PropagateAtLaunch", true)), groupProperties.get("Tags"));
        String roleId = (String) ((List<?>) map(stack.resolve(drain.getRole().getRoleArn())).get("Fn::GetAtt")).get(0);
        Map<String, Object> role = map(resources.get(roleId));
        List<?> statements = (List<?>) map(map(((List<?>) map(role.get("Properties")).get("Policies")).get(0)).get("PolicyDocument")).get("Statement");
        Map<String, Map<String, Object>> bySid = new java.util.TreeMap<>();
        for (Object statement : statements) bySid.put((String) map(statement).get("Sid"), map(statement));
        assertEquals(List.of("GroupLifecycleActions", "SendHookDocument", "SendToGroupInstances"), List.copyOf(bySid.keySet()));
        assertEquals(Map.of("StringEquals", Map.of("ssm:resourceTag/" + tag.get(0), tag.get(1))),
                bySid.get("SendToGroupInstances").get("Condition"));
        assertEquals(Map.of("StringEquals", Map.of("autoscaling:ResourceTag/" + tag.get(0), tag.get(1))),
                bySid.get("GroupLifecycleActions").get("Condition"));
        assertEquals(Map.of("Fn::Join", List.of("", List.of("arn:", Map.of("Ref", "AWS::Partition"),
                ":autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*"))),
                bySid.get("GroupLifecycleActions").get("Resource"));
        // The role names no group: the group waits for it.
        assertFalse(role.toString().contains(groupId), role.toString());

        // The group, and so its first instances, wait for the hook's document and role and the runtime's function.
        List<?> dependsOn = (List<?>) groupResource.getValue().get("DependsOn");
        String handlerId = (String) map(stack.resolve(runtime.getHandler().getFunctionName())).get("Ref");
        for (String need : List.of(documentId, roleId, handlerId)) {
            assertTrue(dependsOn.contains(need), need + " not in " + dependsOn);
        }
        // The terminate hook's rule matches its hook's name alone: naming the group would make the group wait for itself.
        List<Object> terminatePatterns = template.findResources("AWS::Events::Rule").values().stream()
                .map(r -> map(map(r).get("Properties")).get("EventPattern"))
                .filter(p -> p != null && List.of("EC2 Instance-terminate Lifecycle Action").equals(map(p).get("detail-type")))
                .toList();
        assertEquals(List.of(Map.of(
                "source", List.of("aws.autoscaling"),
                "detail-type", List.of("EC2 Instance-terminate Lifecycle Action"),
                "detail", Map.of("LifecycleHookName", List.of(drain.getLifecycleHookName())))), terminatePatterns);

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
