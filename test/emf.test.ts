import {
  actionCompleted,
  actionRepaired,
  commandEnded,
  commandNotSent,
  commandSent,
  emfDocument,
  millisecondsSince,
} from '../src/handler/emf';
import { HOOK_METRICS, METRIC_NAMESPACE, NOT_SENT_REASONS, notSentReason } from '../src/handler/metrics';

const HOOK = { groupName: 'web-fleet', hookName: 'drain' };
const INSTANCE = 'i-0123456789abcdef0';
const NOW = Date.parse('2026-11-29T12:00:30.000Z');

/** The lines a call wrote, parsed, and checked to be whole JSON lines. */
function written(emit: (out: { write(line: string): void }) => void): Array<Record<string, any>> {
  const chunks: string[] = [];
  emit({ write: (chunk) => { chunks.push(chunk); } });
  const text = chunks.join('');
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((line) => JSON.parse(line));
}

/**
 * The metrics a line publishes, read as CloudWatch reads EMF: for each
 * directive, each metric under each dimension set, with the values taken from
 * the line's top-level members.
 */
function publishedMetrics(line: Record<string, any>) {
  const out: Array<{ namespace: string; name: string; unit: string; dimensions: Record<string, string>; value: number }> = [];
  for (const directive of line._aws.CloudWatchMetrics) {
    for (const metric of directive.Metrics) {
      for (const set of directive.Dimensions as string[][]) {
        const dimensions = Object.fromEntries(set.map((name) => [name, line[name]]));
        for (const value of Object.values(dimensions)) expect(typeof value).toBe('string');
        expect(typeof line[metric.Name]).toBe('number');
        out.push({ namespace: directive.Namespace, name: metric.Name, unit: metric.Unit, dimensions, value: line[metric.Name] });
      }
    }
  }
  return out;
}

describe('outcome lines on stdout', () => {
  test('an abandoned action publishes ActionsCompleted by result and in total, and its duration since the event', () => {
    const [line] = written((out) => actionCompleted(HOOK, {
      instanceId: INSTANCE,
      result: 'ABANDON',
      reason: 'command 0f1e ended Failed',
      eventTime: '2026-11-29T12:00:00Z',
    }, { now: NOW, out, requestId: 'req-1' }));

    expect(line).toMatchObject({
      message: 'lifecycle action completed',
      level: 'ERROR',
      requestId: 'req-1',
      instanceId: INSTANCE,
      reason: 'command 0f1e ended Failed',
    });
    expect(line._aws.Timestamp).toBe(NOW);
    // Lambda's log-level filter reads level and an RFC 3339 timestamp from lines written to stdout.
    expect(line.timestamp).toBe('2026-11-29T12:00:30.000Z');
    expect(publishedMetrics(line)).toEqual([
      { namespace: METRIC_NAMESPACE, name: 'ActionsCompleted', unit: 'Count', value: 1, dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain', Result: 'ABANDON' } },
      { namespace: METRIC_NAMESPACE, name: 'ActionsCompleted', unit: 'Count', value: 1, dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain' } },
      { namespace: METRIC_NAMESPACE, name: 'ActionDuration', unit: 'Milliseconds', value: 30_000, dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain' } },
    ]);
  });

  test('an action whose event time is unknown publishes no duration rather than a guess', () => {
    const [line] = written((out) => actionCompleted(HOOK, { instanceId: INSTANCE, result: 'CONTINUE', reason: 'stage skipped' }, { now: NOW, out }));
    expect(line.level).toBe('INFO');
    expect(publishedMetrics(line).map((m) => m.name)).toEqual(['ActionsCompleted', 'ActionsCompleted']);
    expect(line).not.toHaveProperty('ActionDuration');
  });

  test('a failed command counts under its status and in CommandsFailed; a successful one only under its status', () => {
    const [failed] = written((out) => commandEnded(HOOK, { instanceId: INSTANCE, commandId: 'c-1', status: 'TimedOut' }, { now: NOW, out }));
    expect(publishedMetrics(failed)).toEqual([
      expect.objectContaining({ name: 'CommandsEnded', dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain', Status: 'TimedOut' } }),
      expect.objectContaining({ name: 'CommandsFailed', dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain' } }),
    ]);
    expect(failed).toMatchObject({ level: 'ERROR', commandId: 'c-1', instanceId: INSTANCE });

    const [succeeded] = written((out) => commandEnded(HOOK, { instanceId: INSTANCE, commandId: 'c-2', status: 'Success' }, { now: NOW, out }));
    expect(publishedMetrics(succeeded).map((m) => [m.name, m.dimensions.Status])).toEqual([['CommandsEnded', 'Success']]);
    expect(succeeded).not.toHaveProperty('CommandsFailed');
  });

  test('a command not sent counts by reason and in total', () => {
    const [line] = written((out) => commandNotSent(HOOK, {
      instanceId: INSTANCE, reason: 'InvalidInstanceId', step: 'SendCommand', error: 'InvalidInstanceId',
    }, { now: NOW, out }));
    expect(publishedMetrics(line)).toEqual([
      expect.objectContaining({ name: 'CommandsNotSent', dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain', Reason: 'InvalidInstanceId' } }),
      expect.objectContaining({ name: 'CommandsNotSent', dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain' } }),
    ]);
    expect(line).toMatchObject({ level: 'ERROR', step: 'SendCommand', message: 'command not sent' });
  });

  test('a sent command and a repaired action each count once, per hook', () => {
    const [sent] = written((out) => commandSent(HOOK, { instanceId: INSTANCE, commandId: 'c-1' }, { now: NOW, out }));
    expect(publishedMetrics(sent)).toEqual([expect.objectContaining({ name: 'CommandsSent', value: 1 })]);
    const [repaired] = written((out) => actionRepaired(HOOK, { instanceId: INSTANCE, result: 'CONTINUE', reason: 'command ended Success' }, { now: NOW, out }));
    expect(publishedMetrics(repaired)).toEqual([expect.objectContaining({ name: 'ActionsRepaired', value: 1, dimensions: { AutoScalingGroupName: 'web-fleet', LifecycleHookName: 'drain' } })]);
  });

  test('no line carries an instance id as a dimension', () => {
    const lines = written((out) => {
      commandSent(HOOK, { instanceId: INSTANCE }, { out });
      commandEnded(HOOK, { instanceId: INSTANCE, commandId: 'c', status: 'Failed' }, { out });
      commandNotSent(HOOK, { instanceId: INSTANCE, reason: 'Other', step: 'SendCommand' }, { out });
      actionCompleted(HOOK, { instanceId: INSTANCE, result: 'CONTINUE', reason: 'r', eventTime: '2026-11-29T12:00:00Z' }, { out });
      actionRepaired(HOOK, { instanceId: INSTANCE, result: 'ABANDON', reason: 'r' }, { out });
    });
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      for (const metric of publishedMetrics(line)) {
        expect(Object.values(metric.dimensions)).not.toContain(INSTANCE);
      }
    }
  });

  test('the lines go to process.stdout, not through console', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const info = jest.spyOn(console, 'info');
    try {
      commandSent(HOOK, { instanceId: INSTANCE });
      expect(write).toHaveBeenCalledTimes(1);
      expect(JSON.parse(String(write.mock.calls[0][0]))._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'CommandsSent', Unit: 'Count' }]);
      expect(info).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
      info.mockRestore();
    }
  });
});

describe('the metric table', () => {
  test('a metric whose dimension set needs a value refuses a document without it', () => {
    expect(() => emfDocument(HOOK, [{ metric: 'commandsEnded', value: 1 }], { message: 'm', level: 'INFO' }))
      .toThrow('metric CommandsEnded needs a value for dimension Status');
  });

  test('every dimension set starts with the group and the hook', () => {
    for (const definition of Object.values(HOOK_METRICS)) {
      for (const set of definition.dimensionSets) {
        expect(set.slice(0, 2)).toEqual(['AutoScalingGroupName', 'LifecycleHookName']);
      }
    }
  });

  test('reasons form a closed list: known SendCommand errors keep their name, anything else is Other', () => {
    expect(notSentReason('InvalidInstanceId')).toBe('InvalidInstanceId');
    expect(notSentReason('AccessDeniedException')).toBe('AccessDenied');
    expect(notSentReason('AgentNotRegistered')).toBe('AgentNotRegistered');
    expect(notSentReason('SomethingNew')).toBe('Other');
    expect(notSentReason('i-0123456789abcdef0')).toBe('Other');
    expect(NOT_SENT_REASONS).toContain(notSentReason('whatever'));
  });

  test('durations are measured from the event time and never guessed', () => {
    expect(millisecondsSince('2026-11-29T12:00:00Z', NOW)).toBe(30_000);
    expect(millisecondsSince('not a time', NOW)).toBeUndefined();
    expect(millisecondsSince(undefined, NOW)).toBeUndefined();
    // Clock skew between EventBridge and Lambda never yields a negative duration.
    expect(millisecondsSince('2026-11-29T12:01:00Z', NOW)).toBe(0);
  });
});
