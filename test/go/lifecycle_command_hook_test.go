// A Go app that uses the library through the package jsii-pacmak generates,
// synthesizes a stack with both kinds of hook and checks the template.
package consumer

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-lifecycle-command-hook/cdk-lifecycle-command-hook-go/cdklifecyclecommandhook"
)

func newStack() awscdk.Stack {
	// New groups get a launch template rather than a deprecated launch configuration.
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &map[string]interface{}{
			"@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig": true,
		},
	})
	return awscdk.NewStack(app, jsii.String("Hooks"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
	})
}

func TestTerminateHookOnNewGroupAndLaunchHookOnImportedGroup(t *testing.T) {
	stack := newStack()
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(1), NatGateways: jsii.Number(0)})
	group := awsautoscaling.NewAutoScalingGroup(stack, jsii.String("Group"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:          vpc,
		VpcSubnets:   &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		InstanceType: awsec2.NewInstanceType(jsii.String("t3.micro")),
		MachineImage: awsec2.MachineImage_LatestAmazonLinux2023(nil),
	})
	drain := cdklifecyclecommandhook.NewLifecycleCommandHook(stack, jsii.String("Drain"), &cdklifecyclecommandhook.LifecycleCommandHookProps{
		AutoScalingGroup: group,
		Transition:       awsautoscaling.LifecycleTransition_INSTANCE_TERMINATING,
		Commands:         jsii.Strings("systemctl stop application"),
		Timeout:          awscdk.Duration_Minutes(jsii.Number(5)),
	})
	fleet := awsautoscaling.AutoScalingGroup_FromAutoScalingGroupName(stack, jsii.String("Fleet"), jsii.String("web-fleet"))
	bootstrap := cdklifecyclecommandhook.NewLifecycleCommandHook(stack, jsii.String("Bootstrap"), &cdklifecyclecommandhook.LifecycleCommandHookProps{
		AutoScalingGroup:  fleet,
		Transition:        awsautoscaling.LifecycleTransition_INSTANCE_LAUNCHING,
		Commands:          jsii.Strings("/opt/app/bootstrap.sh"),
		Timeout:           awscdk.Duration_Minutes(jsii.Number(15)),
		LifecycleHookName: jsii.String("bootstrap"),
	})

	template := assertions.Template_FromStack(stack, nil)
	template.ResourceCountIs(jsii.String("AWS::AutoScaling::LifecycleHook"), jsii.Number(2))
	template.HasResourceProperties(jsii.String("AWS::AutoScaling::LifecycleHook"), map[string]interface{}{
		"AutoScalingGroupName": stack.Resolve(group.AutoScalingGroupName()),
		"LifecycleTransition":  "autoscaling:EC2_INSTANCE_TERMINATING",
		"HeartbeatTimeout":     2220,
		"DefaultResult":        "CONTINUE",
	})
	template.HasResourceProperties(jsii.String("AWS::AutoScaling::LifecycleHook"), map[string]interface{}{
		"AutoScalingGroupName": "web-fleet",
		"LifecycleHookName":    "bootstrap",
		"LifecycleTransition":  "autoscaling:EC2_INSTANCE_LAUNCHING",
		"HeartbeatTimeout":     3000,
		"DefaultResult":        "ABANDON",
	})
	template.HasResourceProperties(jsii.String("AWS::SSM::Document"), map[string]interface{}{
		"DocumentType": "Command",
		"Content": map[string]interface{}{
			"parameters": map[string]interface{}{"executionTimeout": map[string]interface{}{"default": "300"}},
			"mainSteps": []interface{}{map[string]interface{}{
				"action": "aws:runShellScript",
				"inputs": map[string]interface{}{"runCommand": []string{"set -e", "systemctl stop application"}, "timeoutSeconds": "{{ executionTimeout }}"},
			}},
		},
	})
	template.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(6))
	template.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"),
		map[string]interface{}{"Runtime": "nodejs24.x"}, jsii.Number(2))

	if got := *drain.HeartbeatTimeout().ToSeconds(nil); got != 2220 {
		t.Errorf("drain heartbeat timeout: got %v seconds, want 2220", got)
	}
	if got := *bootstrap.HeartbeatTimeout().ToSeconds(nil); got != 3000 {
		t.Errorf("bootstrap heartbeat timeout: got %v seconds, want 3000", got)
	}
}

func TestEmptyCommandsPanicWithTheConstructMessage(t *testing.T) {
	stack := newStack()
	fleet := awsautoscaling.AutoScalingGroup_FromAutoScalingGroupName(stack, jsii.String("Fleet"), jsii.String("web-fleet"))
	const want = `LifecycleCommandHook: commands is empty; give at least one shell line, e.g. ["systemctl stop app"].`
	defer func() {
		recovered := recover()
		err, ok := recovered.(error)
		if !ok {
			t.Fatalf("want a panic with an error, got %#v", recovered)
		}
		// The message is followed by the JavaScript stack, one frame a line.
		if first, _, _ := strings.Cut(err.Error(), "\n"); first != want {
			t.Fatalf("panic message: got %q, want %q", first, want)
		}
	}()
	cdklifecyclecommandhook.NewLifecycleCommandHook(stack, jsii.String("Drain"), &cdklifecyclecommandhook.LifecycleCommandHookProps{
		AutoScalingGroup: fleet,
		Transition:       awsautoscaling.LifecycleTransition_INSTANCE_TERMINATING,
		Commands:         &[]*string{},
		Timeout:          awscdk.Duration_Minutes(jsii.Number(5)),
	})
}
