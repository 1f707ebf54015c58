// The compliance stacks, synthesized with the aws-cdk-lib that test/range/run.ts
// maps in (the floor or the newest), carry each feature that sets the floor:
// an older aws-cdk-lib would drop a property it does not know without a word.
// Run only by test/range/run.ts, which sets RANGE_AWS_CDK_LIB_VERSION.
import { readFileSync } from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { LifecycleCommandHook } from '../../src';
import { ACKNOWLEDGED_RULES_METADATA_KEY, NAG_METADATA_KEY } from '../../src/nag-suppressions';
import { buildComplianceApp } from '../compliance/stacks';

const version = process.env.RANGE_AWS_CDK_LIB_VERSION;

test('runs with the aws-cdk-lib under test, not the repository\'s', () => {
  expect(version).toMatch(/^2\.\d+\.\d+$/);
  const loaded = require.resolve('aws-cdk-lib');
  expect(loaded.startsWith(path.join(process.env.RANGE_NODE_MODULES!, 'aws-cdk-lib') + path.sep)).toBe(true);
  expect(JSON.parse(readFileSync(path.join(path.dirname(loaded), 'package.json'), 'utf8')).version).toBe(version);
});

describe('the compliance stacks', () => {
  const { app, hooks } = buildComplianceApp();
  const assembly = app.synth();
  const stacks = assembly.stacks.map((s) => s.stackName).sort();
  const hooksOf = (stackName: string) => Object.values(hooks).filter((h) => Stack.of(h).stackName === stackName);
  /** The runtimes that serve the stack's hooks: each has one function, queue, status rule and schedule. */
  const runtimesOf = (stackName: string) => new Set(hooksOf(stackName).map((h) => h.runtime));
  const templateOf = (stackName: string) => Template.fromJSON(assembly.getStackByName(stackName).template);

  test('synthesize, with every hook: on a group of its stack in the group\'s LifecycleHookSpecificationList, on an imported group as a lifecycle hook of its own', () => {
    expect(stacks).toEqual(['ImportedGroupHooks', 'OwnedGroupHooks']);
    for (const stackName of stacks) {
      const template = templateOf(stackName);
      const stackHooks = hooksOf(stackName);
      const names = (list: LifecycleCommandHook[]) => list.map((h) => h.lifecycleHookName).sort();
      const separate = Object.values(template.findResources('AWS::AutoScaling::LifecycleHook'))
        .map((r) => r.Properties.LifecycleHookName as string).sort();
      const inGroups = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'))
        .flatMap((r) => (r.Properties.LifecycleHookSpecificationList ?? []) as Array<{ LifecycleHookName: string }>)
        .map((spec) => spec.LifecycleHookName).sort();
      expect(separate).toEqual(names(stackHooks.filter((h) => h.lifecycleHook !== undefined)));
      expect(inGroups).toEqual(names(stackHooks.filter((h) => h.lifecycleHook === undefined)));
      expect(separate.length + inGroups.length).toBe(stackHooks.length);
    }
    // Both hooks of the owned stack are in its group's definition; both of the imported stack are resources.
    expect(hooksOf('OwnedGroupHooks').map((h) => h.lifecycleHook)).toEqual([undefined, undefined]);
    expect(hooksOf('ImportedGroupHooks').filter((h) => h.lifecycleHook === undefined)).toEqual([]);
    expect(hooksOf('ImportedGroupHooks')).toHaveLength(2);
  });

  test.each(['ImportedGroupHooks', 'OwnedGroupHooks'])('%s: each runtime\'s handler runs on Node.js 24 with JSON logs at INFO, system logs at WARN, in its own log group', (stackName) => {
    const functions = templateOf(stackName).findResources('AWS::Lambda::Function', {
      Properties: {
        Runtime: 'nodejs24.x',
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN', LogGroup: Match.anyValue() },
      },
    });
    expect(runtimesOf(stackName).size).toBeGreaterThan(0);
    expect(Object.keys(functions)).toHaveLength(runtimesOf(stackName).size);
    // Every hook's handler is one of them: its runtime's.
    for (const hook of hooksOf(stackName)) {
      const logicalId = Stack.of(hook).getLogicalId(hook.handler.node.defaultChild as CfnResource);
      expect(Object.keys(functions)).toContain(logicalId);
    }
  });

  test.each(['ImportedGroupHooks', 'OwnedGroupHooks'])('%s: documents update as new versions; events retry and dead-letter; queues refuse plain HTTP', (stackName) => {
    const template = templateOf(stackName);
    const count = hooksOf(stackName).length;
    const runtimes = runtimesOf(stackName).size;
    expect(Object.keys(template.findResources('AWS::SSM::Document', { Properties: { UpdateMethod: 'NewVersion' } }))).toHaveLength(count);
    expect(Object.keys(template.findResources('AWS::Events::Rule', {
      Properties: {
        Targets: [Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: Match.anyValue() },
          DeadLetterConfig: { Arn: Match.anyValue() },
        })],
      },
    }))).toHaveLength(count + runtimes); // each hook's lifecycle rule, each runtime's rule on command statuses
    expect(Object.keys(template.findResources('AWS::Lambda::EventInvokeConfig', {
      Properties: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: Match.anyValue() },
    }))).toHaveLength(runtimes);
    expect(Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { SqsManagedSseEnabled: true } }))).toHaveLength(runtimes);
    expect(Object.keys(template.findResources('AWS::SQS::QueuePolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          })]),
        },
      },
    }))).toHaveLength(runtimes);
  });

  test('each suppression is in the template for cdk-nag 2, and in construct metadata for cdk-nag 3 exactly where aws-cdk-lib has its key', () => {
    const hasValidations = (cdk as unknown as Record<string, unknown>).Validations !== undefined;
    expect(ACKNOWLEDGED_RULES_METADATA_KEY !== undefined).toBe(hasValidations);
    for (const hook of Object.values(hooks)) {
      const handler = hook.handler.node.defaultChild as CfnResource;
      expect(handler.getMetadata(NAG_METADATA_KEY).rules_to_suppress).toEqual(
        expect.arrayContaining([expect.objectContaining({ id: 'NIST.800.53.R5-LambdaInsideVPC', reason: expect.any(String) })]));
      const acknowledged = handler.node.metadata
        .filter((m) => ACKNOWLEDGED_RULES_METADATA_KEY !== undefined && m.type === ACKNOWLEDGED_RULES_METADATA_KEY);
      expect(acknowledged.length > 0).toBe(hasValidations);
    }
  });
});
