// A Go app that uses the library through the package jsii-pacmak generates,
// synthesizes a stack with both kinds of hook and checks the template.
package consumer

import (
	"reflect"
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
		"HeartbeatTimeout":     900,
		"DefaultResult":        "CONTINUE",
	})
	template.HasResourceProperties(jsii.String("AWS::AutoScaling::LifecycleHook"), map[string]interface{}{
		"AutoScalingGroupName": "web-fleet",
		"LifecycleHookName":    "bootstrap",
		"LifecycleTransition":  "autoscaling:EC2_INSTANCE_LAUNCHING",
		"HeartbeatTimeout":     1500,
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
	// One lifecycle rule per hook; the shared runtime's rule on command statuses and its schedule.
	template.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(4))
	// Both hooks share the stack's runtime: one function, with a 60-second timeout.
	template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1))
	template.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"),
		map[string]interface{}{"Runtime": "nodejs24.x", "Timeout": 60}, jsii.Number(1))
	// The launch hook's registration wait belongs to the runtime.
	template.ResourceCountIs(jsii.String("AWS::StepFunctions::StateMachine"), jsii.Number(1))

	shared := cdklifecyclecommandhook.LifecycleCommandRuntime_Of(stack)
	for name, hook := range map[string]cdklifecyclecommandhook.LifecycleCommandHook{"drain": drain, "bootstrap": bootstrap} {
		if got, want := *hook.Runtime().Node().Path(), *shared.Node().Path(); got != want {
			t.Errorf("%s runtime: got %q, want the stack's shared runtime %q", name, got, want)
		}
		if got, want := stack.Resolve(hook.Handler().FunctionArn()), stack.Resolve(shared.Handler().FunctionArn()); !reflect.DeepEqual(got, want) {
			t.Errorf("%s handler: got %v, want the shared function %v", name, got, want)
		}
	}
	// Each hook has a role of its own, which the shared function assumes.
	if reflect.DeepEqual(stack.Resolve(drain.Role().RoleArn()), stack.Resolve(bootstrap.Role().RoleArn())) {
		t.Errorf("drain and bootstrap share a role: %v", stack.Resolve(drain.Role().RoleArn()))
	}
	if got := *drain.ReconciliationPeriod().ToSeconds(nil); got != 360 {
		t.Errorf("reconciliation period: got %v seconds, want 360", got)
	}

	if got := *drain.HeartbeatTimeout().ToSeconds(nil); got != 900 {
		t.Errorf("drain heartbeat timeout: got %v seconds, want 900", got)
	}
	if got := *bootstrap.HeartbeatTimeout().ToSeconds(nil); got != 1500 {
		t.Errorf("bootstrap heartbeat timeout: got %v seconds, want 1500", got)
	}
}

func TestARuntimeOfItsOwnGivesAHookASecondFunction(t *testing.T) {
	stack := newStack()
	fleet := awsautoscaling.AutoScalingGroup_FromAutoScalingGroupName(stack, jsii.String("Fleet"), jsii.String("web-fleet"))
	sharedHook := cdklifecyclecommandhook.NewLifecycleCommandHook(stack, jsii.String("Shared"), &cdklifecyclecommandhook.LifecycleCommandHookProps{
		AutoScalingGroup: fleet,
		Transition:       awsautoscaling.LifecycleTransition_INSTANCE_TERMINATING,
		Commands:         jsii.Strings("systemctl stop application"),
		Timeout:          awscdk.Duration_Minutes(jsii.Number(5)),
	})
	isolated := cdklifecyclecommandhook.NewLifecycleCommandRuntime(stack, jsii.String("Isolated"), nil)
	apart := cdklifecyclecommandhook.NewLifecycleCommandHook(stack, jsii.String("Apart"), &cdklifecyclecommandhook.LifecycleCommandHookProps{
		AutoScalingGroup: fleet,
		Transition:       awsautoscaling.LifecycleTransition_INSTANCE_TERMINATING,
		Commands:         jsii.Strings("systemctl stop application"),
		Timeout:          awscdk.Duration_Minutes(jsii.Number(5)),
		Runtime:          isolated,
	})

	template := assertions.Template_FromStack(stack, nil)
	template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(2))
	template.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(2))
	if got, want := *apart.Runtime().Node().Path(), *isolated.Node().Path(); got != want {
		t.Errorf("apart runtime: got %q, want %q", got, want)
	}
	isolatedArn := stack.Resolve(isolated.Handler().FunctionArn())
	if got := stack.Resolve(apart.Handler().FunctionArn()); !reflect.DeepEqual(got, isolatedArn) {
		t.Errorf("apart handler: got %v, want its runtime's function %v", got, isolatedArn)
	}
	if got := stack.Resolve(sharedHook.Handler().FunctionArn()); reflect.DeepEqual(got, isolatedArn) {
		t.Errorf("the shared hook uses the isolated runtime's function %v", got)
	}
	// The hook's lifecycle rule invokes its own runtime's function.
	template.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
		"EventPattern": map[string]interface{}{"detail": map[string]interface{}{"LifecycleHookName": []string{*apart.LifecycleHookName()}}},
		"Targets":      []interface{}{map[string]interface{}{"Arn": isolatedArn}},
	})
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
