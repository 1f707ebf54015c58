// A Go app that uses the library through the package jsii-pacmak generates,
// synthesizes a stack with both kinds of hook and checks the template.
package consumer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
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

// groupTag is the tag the construct places on a group of the same app for the hook of this document.
func groupTag(documentName string) (key, value string) {
	sum := sha256.Sum256([]byte(documentName))
	return "cdk-lifecycle-command-hook:" + hex.EncodeToString(sum[:])[:12], documentName
}

// asJSON is a value as encoding/json reads it back (objects as map[string]interface{}, arrays as
// []interface{}, numbers as float64), so that values built here compare with the template's.
func asJSON(t *testing.T, value interface{}) interface{} {
	t.Helper()
	data, err := json.Marshal(value)
	if err != nil {
		t.Fatalf("marshal %#v: %v", value, err)
	}
	var out interface{}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
	return out
}

// expectJSON fails the test unless got and want are the same JSON value.
func expectJSON(t *testing.T, what string, got, want interface{}) {
	t.Helper()
	if g, w := asJSON(t, got), asJSON(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %v\nwant %v", what, g, w)
	}
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
	// The hook on the new group is in the group's own definition; the imported group's is a resource of its own.
	template.ResourceCountIs(jsii.String("AWS::AutoScaling::LifecycleHook"), jsii.Number(1))
	resources := asJSON(t, template.ToJSON()).(map[string]interface{})["Resources"].(map[string]interface{})
	groupID := asJSON(t, stack.Resolve(group.AutoScalingGroupName())).(map[string]interface{})["Ref"].(string)
	groupResource := resources[groupID].(map[string]interface{})
	expectJSON(t, "group type", groupResource["Type"], "AWS::AutoScaling::AutoScalingGroup")
	groupProperties := groupResource["Properties"].(map[string]interface{})
	expectJSON(t, "the group's LifecycleHookSpecificationList", groupProperties["LifecycleHookSpecificationList"], []interface{}{
		map[string]interface{}{
			"LifecycleHookName":   *drain.LifecycleHookName(),
			"LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
			"HeartbeatTimeout":    900,
			"DefaultResult":       "CONTINUE",
		},
	})
	if drain.LifecycleHook() != nil {
		t.Errorf("drain.LifecycleHook(): got %v, want nil for a group of the same app", drain.LifecycleHook())
	}
	// The default name: the runtime's prefix, then the hook's unique name.
	prefix := *cdklifecyclecommandhook.LifecycleCommandRuntime_Of(stack).NamePrefix()
	if name := *drain.LifecycleHookName(); !regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + "-Hooks-Drain-[0-9A-F]{8}$").MatchString(name) {
		t.Errorf("drain hook name %q: want %s-Hooks-Drain-<8 hex digits>", name, prefix)
	}
	// The group and its instances carry the hook's tag, and the hook's role is scoped by it.
	documentID := asJSON(t, stack.Resolve(drain.DocumentName())).(map[string]interface{})["Ref"].(string)
	documentName := resources[documentID].(map[string]interface{})["Properties"].(map[string]interface{})["Name"].(string)
	tagKey, tagValue := groupTag(documentName)
	expectJSON(t, "the group's tags", groupProperties["Tags"], []interface{}{
		map[string]interface{}{"Key": tagKey, "Value": tagValue, "PropagateAtLaunch": true},
		map[string]interface{}{"Key": "Name", "Value": "Hooks/Group", "PropagateAtLaunch": true},
	})
	roleID := asJSON(t, stack.Resolve(drain.Role().RoleArn())).(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
	role := resources[roleID].(map[string]interface{})
	statements := map[string]interface{}{}
	for _, s := range role["Properties"].(map[string]interface{})["Policies"].([]interface{})[0].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
		statements[s.(map[string]interface{})["Sid"].(string)] = s
	}
	expectJSON(t, "the drain role's statements", statements, map[string]interface{}{
		"SendHookDocument": map[string]interface{}{
			"Sid": "SendHookDocument", "Effect": "Allow", "Action": "ssm:SendCommand",
			"Resource": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":ssm:eu-west-1:123456789012:document/" + documentName}}},
		},
		"SendToGroupInstances": map[string]interface{}{
			"Sid": "SendToGroupInstances", "Effect": "Allow", "Action": "ssm:SendCommand",
			"Resource":  map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":ec2:eu-west-1:123456789012:instance/*"}}},
			"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"ssm:resourceTag/" + tagKey: tagValue}},
		},
		"GroupLifecycleActions": map[string]interface{}{
			"Sid": "GroupLifecycleActions", "Effect": "Allow",
			"Action":    []interface{}{"autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"},
			"Resource":  map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*"}}},
			"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"autoscaling:ResourceTag/" + tagKey: tagValue}},
		},
	})
	// The group, and so its first instances, wait for the hook's document and role and the runtime's function.
	dependsOn := map[string]bool{}
	for _, id := range groupResource["DependsOn"].([]interface{}) {
		dependsOn[id.(string)] = true
	}
	handlerID := asJSON(t, stack.Resolve(cdklifecyclecommandhook.LifecycleCommandRuntime_Of(stack).Handler().FunctionName())).(map[string]interface{})["Ref"].(string)
	for _, need := range []string{documentID, roleID, handlerID} {
		if !dependsOn[need] {
			t.Errorf("the group does not wait for %s: DependsOn %v", need, groupResource["DependsOn"])
		}
	}
	// Nothing the group waits for refers to it: the hook's rule matches the hook's name alone.
	for need := range dependsOn {
		data, _ := json.Marshal(resources[need])
		if strings.Contains(string(data), groupID) {
			t.Errorf("%s, which the group waits for, refers to the group: %s", need, data)
		}
	}
	var terminatePatterns []interface{}
	for _, rule := range resources {
		properties, _ := rule.(map[string]interface{})["Properties"].(map[string]interface{})
		pattern, ok := properties["EventPattern"].(map[string]interface{})
		if rule.(map[string]interface{})["Type"] == "AWS::Events::Rule" && ok && reflect.DeepEqual(pattern["detail-type"], []interface{}{"EC2 Instance-terminate Lifecycle Action"}) {
			terminatePatterns = append(terminatePatterns, pattern)
		}
	}
	expectJSON(t, "the terminate rule's pattern", terminatePatterns, []interface{}{map[string]interface{}{
		"source":      []interface{}{"aws.autoscaling"},
		"detail-type": []interface{}{"EC2 Instance-terminate Lifecycle Action"},
		"detail":      map[string]interface{}{"LifecycleHookName": []interface{}{*drain.LifecycleHookName()}},
	}})
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
