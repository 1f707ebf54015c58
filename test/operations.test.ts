import { App, Duration, Stack, aws_autoscaling as autoscaling, aws_cloudwatch as cloudwatch, aws_events_targets as targets, aws_sns as sns } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LifecycleCommandHook, LifecycleCommandHookProps } from '../src';
import { actionCompleted, commandEnded, commandNotSent, commandSent, actionRepaired, EmfDocument } from '../src/handler/emf';
import { FAILURE_STATUSES } from '../src/handler/events';
import { HOOK_METRICS } from '../src/handler/metrics';

function newHook(props: Partial<LifecycleCommandHookProps> = {}) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const hook = new LifecycleCommandHook(stack, 'Drain', {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Fleet', 'web-fleet'),
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(5),
    lifecycleHookName: 'drain',
    ...props,
  });
  return { stack, hook };
}

function metricStat(metric: cloudwatch.Metric) {
  const stat = metric.toMetricConfig().metricStat!;
  return {
    namespace: stat.namespace,
    metricName: stat.metricName,
    dimensions: Object.fromEntries((stat.dimensions ?? []).map((d) => [d.name, d.value])),
    statistic: stat.statistic,
    periodSeconds: stat.period.toSeconds(),
  };
}

/**
 * Whether an emitted line publishes the metric a method points at: same
 * namespace and name, and one of the line's dimension sets with exactly the
 * method's dimension names and, as values, the line's members.
 */
function linePublishes(line: EmfDocument, metric: cloudwatch.Metric): boolean {
  const { namespace, metricName, dimensions } = metricStat(metric);
  return line._aws.CloudWatchMetrics.some((directive) => directive.Namespace === namespace
    && directive.Metrics.some((m) => m.Name === metricName)
    && directive.Dimensions.some((set) => set.length === Object.keys(dimensions).length
      && set.every((name) => dimensions[name] === line[name])));
}

function emitted(emit: (out: { write(line: string): void }) => unknown): EmfDocument {
  let text = '';
  emit({ write: (line) => { text += line; } });
  return JSON.parse(text);
}

const HOOK = { groupName: 'web-fleet', hookName: 'drain' };
const INSTANCE = 'i-0123456789abcdef0';

describe('metric methods', () => {
  const { hook } = newHook();

  test('each method points at the hook\'s metric with its default statistic and period', () => {
    const hookDimensions = { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain' };
    const sum = (metricName: string, dimensions: Record<string, string> = hookDimensions) =>
      ({ namespace: 'LifecycleCommandHook', metricName, dimensions, statistic: 'Sum', periodSeconds: 300 });
    expect(metricStat(hook.metricActionsCompleted())).toEqual(sum('ActionsCompleted'));
    expect(metricStat(hook.metricActionsCompleted(autoscaling.DefaultResult.CONTINUE))).toEqual(sum('ActionsCompleted', { ...hookDimensions, Result: 'CONTINUE' }));
    expect(metricStat(hook.metricActionsAbandoned())).toEqual(sum('ActionsCompleted', { ...hookDimensions, Result: 'ABANDON' }));
    expect(metricStat(hook.metricActionDuration())).toEqual({ ...sum('ActionDuration'), statistic: 'Average' });
    expect(metricStat(hook.metricCommandsSent())).toEqual(sum('CommandsSent'));
    expect(metricStat(hook.metricCommandsFailed())).toEqual(sum('CommandsFailed'));
    expect(metricStat(hook.metricCommandsNotSent())).toEqual(sum('CommandsNotSent'));
    expect(metricStat(hook.metricActionsRepaired())).toEqual(sum('ActionsRepaired'));
  });

  test('the caller\'s options override the defaults', () => {
    expect(metricStat(hook.metricCommandsFailed({ period: Duration.minutes(1), statistic: 'Maximum' })))
      .toMatchObject({ metricName: 'CommandsFailed', statistic: 'Maximum', periodSeconds: 60 });
    expect(metricStat(hook.metric('CommandsEnded', { dimensionsMap: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain', Status: 'TimedOut' } })))
      .toMatchObject({ metricName: 'CommandsEnded', dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain', Status: 'TimedOut' } });
  });

  test('every metric the handler can publish has a method, and every method a metric of the table', () => {
    const methods = [
      hook.metricActionsCompleted(), hook.metricActionDuration(), hook.metricCommandsSent(),
      hook.metricCommandsFailed(), hook.metricCommandsNotSent(), hook.metricActionsRepaired(),
      hook.metric(HOOK_METRICS.commandsEnded.name),
    ].map((m) => m.metricName).sort();
    expect(methods).toEqual(Object.values(HOOK_METRICS).map((d) => d.name).sort());
  });

  test('the handler\'s lines publish exactly the metrics the methods point at', () => {
    const completed = emitted((out) => actionCompleted(HOOK, { instanceId: INSTANCE, result: 'ABANDON', reason: 'r', eventTime: '2026-11-29T12:00:00Z' }, { out }));
    expect(linePublishes(completed, hook.metricActionsAbandoned())).toBe(true);
    expect(linePublishes(completed, hook.metricActionsCompleted())).toBe(true);
    expect(linePublishes(completed, hook.metricActionDuration())).toBe(true);
    expect(linePublishes(completed, hook.metricActionsCompleted(autoscaling.DefaultResult.CONTINUE))).toBe(false);

    const failed = emitted((out) => commandEnded(HOOK, { instanceId: INSTANCE, commandId: 'c', status: 'Failed' }, { out }));
    expect(linePublishes(failed, hook.metricCommandsFailed())).toBe(true);
    const succeeded = emitted((out) => commandEnded(HOOK, { instanceId: INSTANCE, commandId: 'c', status: 'Success' }, { out }));
    expect(linePublishes(succeeded, hook.metricCommandsFailed())).toBe(false);

    const notSent = emitted((out) => commandNotSent(HOOK, { instanceId: INSTANCE, reason: 'AgentNotRegistered', step: 'DescribeInstanceInformation' }, { out }));
    expect(linePublishes(notSent, hook.metricCommandsNotSent())).toBe(true);
    const sent = emitted((out) => commandSent(HOOK, { instanceId: INSTANCE }, { out }));
    expect(linePublishes(sent, hook.metricCommandsSent())).toBe(true);
    const repaired = emitted((out) => actionRepaired(HOOK, { instanceId: INSTANCE, result: 'CONTINUE', reason: 'r' }, { out }));
    expect(linePublishes(repaired, hook.metricActionsRepaired())).toBe(true);
  });

  test('a line of another hook does not match this hook\'s methods', () => {
    const other = emitted((out) => commandSent({ groupName: 'web-fleet', hookName: 'bootstrap' }, { instanceId: INSTANCE }, { out }));
    expect(linePublishes(other, hook.metricCommandsSent())).toBe(false);
  });

  test('the dead-letter metric is the queue\'s visible messages, maximum over 5 minutes', () => {
    const stat = metricStat(hook.metricDeadLetters());
    expect(stat).toMatchObject({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', statistic: 'Maximum', periodSeconds: 300 });
    expect(Object.keys(stat.dimensions)).toEqual(['QueueName']);
  });

  test('an alarm on abandoned launches synthesizes with the hook\'s dimensions', () => {
    const { stack, hook: launch } = newHook({
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      lifecycleHookName: 'bootstrap',
    });
    new cloudwatch.Alarm(stack, 'Abandoned', { metric: launch.metricActionsAbandoned(), threshold: 1, evaluationPeriods: 1 });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'LifecycleCommandHook',
      MetricName: 'ActionsCompleted',
      Statistic: 'Sum',
      Period: 300,
      Dimensions: Match.arrayWith([
        { Name: 'AutoScalingGroupName', Value: 'web-fleet' },
        { Name: 'LifecycleHookName', Value: 'bootstrap' },
        { Name: 'Result', Value: 'ABANDON' },
      ]),
    });
  });
});

describe('onCommandFailed', () => {
  test('a rule on this hook\'s document\'s failed invocations, with the caller\'s target', () => {
    const { stack, hook } = newHook();
    const topic = new sns.Topic(stack, 'Alerts');
    const rule = hook.onCommandFailed('DrainFailed', { target: new targets.SnsTopic(topic), description: 'Drain failures' });
    expect(rule.node.scope).toBe(hook);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'Drain failures',
      EventPattern: {
        'source': ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        'detail': {
          'document-name': [{ Ref: Match.stringLikeRegexp('^DrainDocument') }],
          'status': [...FAILURE_STATUSES],
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Alerts') } })],
    });
    expect(FAILURE_STATUSES).not.toContain('Success');
    expect(FAILURE_STATUSES).toEqual(expect.arrayContaining(['Failed', 'TimedOut', 'Cancelled']));
  });

  test('without a target the rule exists and has none, for the caller to add', () => {
    const { stack, hook } = newHook();
    hook.onCommandFailed('Failed').addTarget(new targets.SnsTopic(new sns.Topic(stack, 'Later')));
    const rules = Template.fromStack(stack).findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { status: [...FAILURE_STATUSES] } } } });
    expect(Object.values(rules)).toHaveLength(1);
    expect(Object.values(rules)[0].Properties.Targets).toHaveLength(1);
  });
});
