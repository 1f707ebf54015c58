import { App, CfnResource, Duration, Stack, aws_autoscaling as autoscaling, aws_iam as iam, aws_logs as logs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { acknowledgedOn, byPathAndRule, Finding, nagFindings, shortPath } from './nag-findings';
import { buildComplianceApp, ComplianceApp, ENV } from './stacks';
import { LifecycleCommandHook, LifecycleCommandRuntime } from '../../src';
import { suppressNagFindings } from '../../src/nag-suppressions';

const IAM5 = 'AwsSolutions-IAM5';
const INLINE_POLICY = 'NIST.800.53.R5-IAMNoInlinePolicy';
const LOG_GROUP_KMS = 'NIST.800.53.R5-CloudWatchLogGroupEncrypted';
const SSM_CORE = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]';

const inEnv = (service: string) => `arn:<AWS::Partition>:${service}:eu-west-1:123456789012`;
const agnostic = (service: string) => `arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>`;

const iamInEnv = 'arn:<AWS::Partition>:iam::123456789012';
const iamAgnostic = 'arn:<AWS::Partition>:iam::<AWS::AccountId>';

/** What each stack's runtime suppresses on the resources it always creates (both stacks have a launch hook). */
function runtimeSuppressed(stack: Stack, arn: (service: string) => string, iamArn: string): Array<[string, string]> {
  const runtime = `${stack.stackName}/LifecycleCommandRuntime`;
  const prefix = LifecycleCommandRuntime.of(stack).namePrefix;
  return [
    // Short-lived claims of pending lifecycle actions: nothing worth a point-in-time restore or a backup.
    [`${runtime}/ActionTable`, 'AwsSolutions-DDB3'],
    [`${runtime}/ActionTable`, 'NIST.800.53.R5-DynamoDBInBackupPlan'],
    [`${runtime}/ActionTable`, 'NIST.800.53.R5-DynamoDBPITREnabled'],
    [`${runtime}/Handler`, 'NIST.800.53.R5-LambdaConcurrency'],
    [`${runtime}/Handler`, 'NIST.800.53.R5-LambdaInsideVPC'],
    [`${runtime}/HandlerLogGroup`, LOG_GROUP_KMS],
    // Reads that have no resource type; the hooks' settings and roles, under the runtime's own path.
    [`${runtime}/HandlerPolicy/Resource`, `${IAM5}[Resource::*]`],
    [`${runtime}/HandlerPolicy/Resource`, `${IAM5}[Resource::${arn('ssm')}:parameter/cdk-lifecycle-command-hook/${prefix}/*]`],
    [`${runtime}/HandlerPolicy/Resource`, `${IAM5}[Resource::${iamArn}:role/cdk-lifecycle-command-hook/${prefix}/*]`],
    [`${runtime}/HandlerPolicy/Resource`, INLINE_POLICY],
    [`${runtime}/HandlerRole/DefaultPolicy`, INLINE_POLICY],
    // The registration wait state machine logs and traces nothing, and has its own inline policy.
    [`${runtime}/RegistrationWait`, 'AwsSolutions-SF1'],
    [`${runtime}/RegistrationWait`, 'AwsSolutions-SF2'],
    [`${runtime}/RegistrationWait/Policy`, INLINE_POLICY],
  ];
}

/**
 * What every hook suppresses on its role: instances by the group's tag, the
 * group's id in its ARN (and for a group of the same app, known by the hook's
 * tag rather than named, its name too), the role's inline policy.
 */
function hookSuppressed(hook: string, arn: (service: string) => string, groupName: string): Array<[string, string]> {
  return [
    [`${hook}/Role/Resource`, `${IAM5}[Resource::${arn('ec2')}:instance/*]`],
    [`${hook}/Role/Resource`, `${IAM5}[Resource::${arn('autoscaling')}:autoScalingGroup:*:autoScalingGroupName/${groupName}]`],
    [`${hook}/Role/Resource`, INLINE_POLICY],
  ];
}

/**
 * Every cdk-nag finding (AwsSolutions and NIST 800-53 R5) that the construct
 * raises on the compliance stacks, all suppressed by the construct itself. A new
 * finding, or a suppression that no longer meets one, fails these tests.
 */
function pinnedSuppressions(built: ComplianceApp): Array<[string, string]> {
  return [
    ...runtimeSuppressed(built.ownedStack, inEnv, iamInEnv),
    // A group of the same app is not named in the hook's role (it waits for the role): the hook's tag on it is the condition.
    ...hookSuppressed('OwnedGroupHooks/Bootstrap', inEnv, '*'),
    ['OwnedGroupHooks/Bootstrap/InstanceOutputPolicy', INLINE_POLICY],
    // The output log group is passed by name: its ARN ends in ":*" (its log streams).
    ['OwnedGroupHooks/Bootstrap/InstanceOutputPolicy', `${IAM5}[Resource::${inEnv('logs')}:log-group:fleet-command-output:*]`],
    ...hookSuppressed('OwnedGroupHooks/Drain', inEnv, '*'),
    ['OwnedGroupHooks/Drain/OutputLogGroup', LOG_GROUP_KMS],
    ['OwnedGroupHooks/Drain/InstanceOutputPolicy', INLINE_POLICY],
    ['OwnedGroupHooks/Group/InstanceRole', SSM_CORE],
    ...runtimeSuppressed(built.importedStack, agnostic, iamAgnostic),
    ...hookSuppressed('ImportedGroupHooks/Bootstrap', agnostic, '<FleetName>'),
    ['ImportedGroupHooks/Bootstrap/OutputLogGroup', LOG_GROUP_KMS],
    ...hookSuppressed('ImportedGroupHooks/Drain', agnostic, 'web-fleet'),
  ];
}

const packs = () => [new AwsSolutionsChecks(), new NIST80053R5Checks()];

describe('cdk-nag on the compliance stacks', () => {
  const built = buildComplianceApp();
  built.app.synth();
  // The hooks and the runtime that serves them, in each stack.
  const hookPaths = [
    ...Object.values(built.hooks).map((h) => h.node.path + '/'),
    ...[built.ownedStack, built.importedStack].map((stack) => LifecycleCommandRuntime.of(stack).node.path + '/'),
  ];
  const instanceRole = built.group.role.node.defaultChild as CfnResource;
  const isConstructResource = (path: string) =>
    hookPaths.some((p) => `${path}/`.startsWith(p)) || path === shortPath(instanceRole.node.path);
  const constructResources = built.app.node.findAll()
    .filter((c): c is CfnResource => CfnResource.isCfnResource(c))
    .filter((r) => isConstructResource(shortPath(r.node.path)));
  const pinned = pinnedSuppressions(built).map(([path, rule]) => ({ path, rule })).sort(byPathAndRule);

  test.each(packs().map((p) => [p.readPackName, p] as const))('%s reports nothing unsuppressed, warnings included', (_name, pack) => {
    expect(nagFindings(pack, built.app)).toEqual([]);
  });

  test('every finding on the construct\'s resources is a pinned suppression, and every pinned suppression meets a finding', () => {
    const raw = packs()
      .flatMap((pack) => nagFindings(pack, built.app, { ignoreAcknowledgments: true }))
      .filter((f) => isConstructResource(f.path))
      .map(({ path, rule }) => ({ path, rule }))
      .sort(byPathAndRule);
    expect(raw).toEqual(pinned);
  });

  test('the construct records exactly the pinned suppressions, each with a reason', () => {
    const recorded = constructResources.flatMap((r) =>
      Object.entries(acknowledgedOn(r)).map(([rule, reason]) => ({ path: shortPath(r.node.path), rule, reason })));
    expect(recorded.map(({ path, rule }) => ({ path, rule })).sort(byPathAndRule)).toEqual(pinned);
    for (const { reason } of recorded) {
      // Printable ASCII, so cdk-nag 2 keeps it readable in the template rather than base64.
      expect(reason).toMatch(/^[\x20-\x7e]{40,}$/);
    }
  });

  test('the template carries each suppression and its reason as cdk_nag metadata, the form cdk-nag 2 reads', () => {
    for (const stack of [built.ownedStack, built.importedStack]) {
      const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Metadata?: Record<string, any> }>;
      for (const resource of constructResources.filter((r) => Stack.of(r) === stack)) {
        const rules: Array<{ id: string; reason: string; applies_to?: string[] }> =
          resources[stack.resolve(resource.logicalId)].Metadata?.cdk_nag?.rules_to_suppress ?? [];
        const fromTemplate = Object.fromEntries(rules.flatMap((r) =>
          r.applies_to ? r.applies_to.map((finding) => [`${r.id}[${finding}]`, r.reason]) : [[r.id, r.reason]]));
        expect(fromTemplate).toEqual(acknowledgedOn(resource));
      }
    }
  });
});

describe('the suppressions cover only what the construct creates', () => {
  function ownedHookApp(configure?: (group: autoscaling.AutoScalingGroup, hook: LifecycleCommandHook) => void) {
    const { app, group, hooks } = buildComplianceApp();
    configure?.(group, hooks['OwnedGroupHooks/Drain']);
    app.synth();
    return app;
  }
  const awsSolutions = (app: IConstruct): Finding[] => nagFindings(new AwsSolutionsChecks(), app);

  test('a wildcard statement added to the function\'s role later is reported', () => {
    const app = ownedHookApp((_group, hook) => hook.handler.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: ['*'],
    })));
    expect(awsSolutions(app)).toEqual([
      { path: 'OwnedGroupHooks/LifecycleCommandRuntime/HandlerRole/DefaultPolicy', rule: `${IAM5}[Resource::*]`, severity: 'error' },
    ]);
  });

  test('a wildcard statement added to a hook\'s role later is reported', () => {
    const app = ownedHookApp((_group, hook) => hook.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:SendCommand'],
      resources: ['*'],
    })));
    expect(awsSolutions(app)).toEqual([
      { path: 'OwnedGroupHooks/Drain/Role/Resource/DefaultPolicy', rule: `${IAM5}[Resource::*]`, severity: 'error' },
    ]);
  });

  test('another managed policy on the group\'s instance role is reported', () => {
    const app = ownedHookApp((group) => group.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonS3ReadOnlyAccess')));
    expect(awsSolutions(app)).toEqual([{
      path: 'OwnedGroupHooks/Group/InstanceRole',
      rule: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonS3ReadOnlyAccess]',
      severity: 'error',
    }]);
  });

  test('an output log group ARN with a wildcard in the name is reported', () => {
    const { app, group } = buildComplianceApp();
    const stack = Stack.of(group);
    new LifecycleCommandHook(stack, 'Broad', {
      autoScalingGroup: group,
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['true'],
      timeout: Duration.minutes(1),
      outputLogGroup: logs.LogGroup.fromLogGroupArn(stack, 'AnyGroup', `arn:aws:logs:${ENV.region}:${ENV.account}:log-group:fleet-*`),
    });
    app.synth();
    // Both the writing statement and the CreateLogGroup statement name the pattern.
    expect(awsSolutions(app)).toEqual([{
      path: 'OwnedGroupHooks/Broad/InstanceOutputPolicy',
      rule: `${IAM5}[Resource::arn:<AWS::Partition>:logs:eu-west-1:123456789012:log-group:fleet-*]`,
      severity: 'error',
    }, {
      path: 'OwnedGroupHooks/Broad/InstanceOutputPolicy',
      rule: `${IAM5}[Resource::arn:aws:logs:eu-west-1:123456789012:log-group:fleet-*:*]`,
      severity: 'error',
    }]);
  });

  test('a group from another stack of the app: a separate hook in the hook\'s stack, its role names the group by the export, and that finding is left to the group\'s owner', () => {
    const { app, group } = buildComplianceApp();
    const other = new Stack(app, 'HooksOfAnotherStack', { env: ENV });
    // The default configureInstanceRole: the group's stack does not wait for this one, so granting its instance role here makes no cycle.
    const hook = new LifecycleCommandHook(other, 'Drain', {
      autoScalingGroup: group,
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['true'],
      timeout: Duration.minutes(1),
    });
    const assembly = app.synth();
    const groupStack = assembly.getStackByName('OwnedGroupHooks');
    const hookStack = assembly.getStackByName('HooksOfAnotherStack');
    // The group's name crosses the stacks as an export of the group's stack, which depends on nothing of the hook's.
    const groupId = Object.entries<any>(groupStack.template.Resources).find(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')![0];
    const [exportName] = Object.values<any>(groupStack.template.Outputs).filter((o) => o.Value?.Ref === groupId).map((o) => o.Export.Name);
    expect(exportName).toBe('OwnedGroupHooks:ExportsOutputRefGroupASG3C6DFE3B7A0874DF');
    const imported = { 'Fn::ImportValue': exportName };
    expect(hookStack.dependencies.map((d) => d.id)).toContain('OwnedGroupHooks');
    expect(groupStack.dependencies.map((d) => d.id)).not.toContain('HooksOfAnotherStack');
    const resources = Object.values<any>(hookStack.template.Resources);
    const at = (path: string) => resources.find((r) => r.Metadata?.['aws:cdk:path'] === path);
    // A separate lifecycle hook in the hook's stack, on the imported name; the group holds no hook of it, nor its tag.
    expect(resources.filter((r) => r.Type === 'AWS::AutoScaling::LifecycleHook')).toEqual([expect.objectContaining({
      Properties: expect.objectContaining({ AutoScalingGroupName: imported, LifecycleHookName: hook.lifecycleHookName }),
    })]);
    expect(hook.lifecycleHook).toBeDefined();
    const asg = groupStack.template.Resources[groupId];
    expect(asg.Properties.LifecycleHookSpecificationList.map((h: any) => h.LifecycleHookName)).not.toContain(hook.lifecycleHookName);
    expect(asg.Properties.Tags.map((t: any) => t.Value)).not.toContain(hook.documentName);
    // Its role is scoped by the group's name, the export: no tag condition.
    const role = at('HooksOfAnotherStack/Drain/Role/Resource/Resource');
    const statements: any[] = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    expect(statements.find((st) => st.Sid === 'SendToGroupInstances').Condition).toEqual({ StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': imported } });
    const lifecycleActions = statements.find((st) => st.Sid === 'GroupLifecycleActions');
    expect(lifecycleActions.Condition).toBeUndefined();
    expect(lifecycleActions.Resource['Fn::Join'][1]).toEqual([
      'arn:', { Ref: 'AWS::Partition' }, ':autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/', imported,
    ]);
    // Its settings name the group and carry no tag; its rule names the group.
    const settings = JSON.stringify(at('HooksOfAnotherStack/Drain/Settings').Properties.Value);
    expect(settings).toContain(JSON.stringify(['{\"groupName\":\"', imported]).slice(1, -1));
    expect(settings).not.toContain('groupTag');
    const rule = at('HooksOfAnotherStack/Drain/LifecycleActionRule/Resource');
    expect(rule.Properties.EventPattern.detail.AutoScalingGroupName).toEqual([imported]);
    // The group's instance role gets the output policy, attached across the stacks.
    const instanceRoleId = Object.entries<any>(groupStack.template.Resources).find(([, r]) => r.Metadata?.['aws:cdk:path'] === 'OwnedGroupHooks/Group/InstanceRole/Resource')![0];
    const [instanceRoleExport] = Object.values<any>(groupStack.template.Outputs)
      .filter((o) => o.Value?.Ref === instanceRoleId).map((o) => o.Export.Name);
    expect(at('HooksOfAnotherStack/Drain/InstanceOutputPolicy/Resource').Properties.Roles).toEqual([{ 'Fn::ImportValue': instanceRoleExport }]);
    // Before acknowledgments, the hook's role has its two findings: instances by the group's tag (suppressed by the construct),
    // and the group's ARN, which cdk-nag names by the export while the construct's suppression names the group's Ref.
    const groupArnFinding = `${IAM5}[Resource::${inEnv('autoscaling')}:autoScalingGroup:*:autoScalingGroupName/${exportName}]`;
    const onRole = (findings: Finding[]) => findings.filter((f) => f.path === 'HooksOfAnotherStack/Drain/Role/Resource');
    expect(onRole(nagFindings(new AwsSolutionsChecks(), other, { ignoreAcknowledgments: true }))).toEqual([
      { path: 'HooksOfAnotherStack/Drain/Role/Resource', rule: groupArnFinding, severity: 'error' },
      { path: 'HooksOfAnotherStack/Drain/Role/Resource', rule: `${IAM5}[Resource::${inEnv('ec2')}:instance/*]`, severity: 'error' },
    ]);
    expect(Object.keys(acknowledgedOn(hook.role.node.defaultChild as CfnResource))).toEqual(expect.arrayContaining([
      `${IAM5}[Resource::${inEnv('autoscaling')}:autoScalingGroup:*:autoScalingGroupName/<${groupId}>]`,
    ]));
    // So the group ARN's finding is the only one that shows, left to the group's owner to acknowledge.
    expect(awsSolutions(app)).toEqual([{ path: 'HooksOfAnotherStack/Drain/Role/Resource', rule: groupArnFinding, severity: 'error' }]);
    suppressNagFindings(hook.role.node.defaultChild as CfnResource, [{
      rule: IAM5,
      finding: groupArnFinding.slice(`${IAM5}[`.length, -1),
      reason: 'Test fixture: the "*" is the group\'s id; the ARN ends in the exported name of the group.',
    }]);
    expect(awsSolutions(app)).toEqual([]);
  });

  test('with configureInstanceRole: false the instance role carries no suppression, and its own finding shows', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const role = new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
    const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Fleet', 'web-fleet');
    new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: group,
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['true'],
      timeout: Duration.minutes(1),
      configureInstanceRole: false,
    });
    app.synth();
    expect(acknowledgedOn(role.node.defaultChild as CfnResource)).toEqual({});
    expect(awsSolutions(app)).toEqual([{ path: 'Stack/InstanceRole', rule: SSM_CORE, severity: 'error' }]);
  });
});
