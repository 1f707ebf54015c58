/**
 * The handler's outcome log lines, each carrying the hook's metrics in
 * CloudWatch's embedded metric format (EMF): one JSON object per line, with an
 * `_aws` member that declares the metrics and their values as top-level
 * members beside the log fields. CloudWatch Logs extracts the metrics from the
 * function's log group; no PutMetricData call and no permission are needed.
 *
 * The lines go to `process.stdout` whole: with Lambda's JSON log format,
 * `console.*` would nest the object under `message`, where CloudWatch no
 * longer finds `_aws`. Lambda's log-level filter reads such a line's `level`
 * (and uses its RFC 3339 `timestamp`), so every line carries both; the
 * construct sets the function's application log level to INFO, which lets
 * every outcome line, and so every metric, through.
 */
import { HOOK_METRICS, HookMetric, METRIC_DIMENSIONS, METRIC_NAMESPACE, NotSentReason } from './metrics';

/** The hook a line speaks for: the values of the dimensions every metric carries. */
export interface MetricHook {
  readonly groupName: string;
  readonly hookName: string;
}

/** Where lines are written: `process.stdout` in the handler, a buffer in tests. */
export interface LineWriter {
  write(line: string): unknown;
}

type LogLevel = 'INFO' | 'WARN' | 'ERROR';

/** One metric value for a line. */
interface MetricValue {
  readonly metric: HookMetric;
  readonly value: number;
}

/** The `_aws` member of an EMF document. */
export interface EmfMetadata {
  readonly Timestamp: number;
  readonly CloudWatchMetrics: Array<{
    readonly Namespace: string;
    readonly Dimensions: string[][];
    readonly Metrics: Array<{ readonly Name: string; readonly Unit: string }>;
  }>;
}

/** One outcome line: `_aws`, the dimension values, the metric values and the log fields. */
export type EmfDocument = { readonly _aws: EmfMetadata } & Record<string, unknown>;

/**
 * Builds one EMF document. Every metric gets its own directive, since the
 * dimension sets differ between metrics; the dimension values and metric
 * values are top-level members, and so are the log fields, which must not
 * reuse their names.
 */
export function emfDocument(
  hook: MetricHook,
  metrics: readonly MetricValue[],
  fields: Record<string, unknown> & { message: string; level: LogLevel },
  dimensions: Partial<Record<'result' | 'status' | 'reason', string>> = {},
  now: number = Date.now(),
): EmfDocument {
  const values: Record<string, string> = {
    [METRIC_DIMENSIONS.groupName]: hook.groupName,
    [METRIC_DIMENSIONS.hookName]: hook.hookName,
  };
  for (const [key, value] of Object.entries(dimensions)) {
    if (value !== undefined) values[METRIC_DIMENSIONS[key as keyof typeof dimensions]] = value;
  }
  const directives = metrics.map(({ metric }) => {
    const definition = HOOK_METRICS[metric];
    for (const set of definition.dimensionSets) {
      const missing = set.find((name) => values[name] === undefined);
      if (missing) throw new Error(`metric ${definition.name} needs a value for dimension ${missing}`);
    }
    return {
      Namespace: METRIC_NAMESPACE,
      Dimensions: definition.dimensionSets.map((set) => [...set]),
      Metrics: [{ Name: definition.name, Unit: definition.unit }],
    };
  });
  const metricValues = Object.fromEntries(metrics.map(({ metric, value }) => [HOOK_METRICS[metric].name, value]));
  return {
    timestamp: new Date(now).toISOString(),
    ...fields,
    ...values,
    ...metricValues,
    _aws: { Timestamp: now, CloudWatchMetrics: directives },
  };
}

/** Writes a document as one line. */
export function writeDocument(document: EmfDocument, out: LineWriter = process.stdout): void {
  out.write(`${JSON.stringify(document)}\n`);
}

/**
 * Milliseconds from an EventBridge event's `time` to `now`, or undefined when
 * the time is missing or unreadable (the duration is then left out, not guessed).
 */
export function millisecondsSince(eventTime: unknown, now: number = Date.now()): number | undefined {
  if (typeof eventTime !== 'string') return undefined;
  const then = Date.parse(eventTime);
  if (Number.isNaN(then)) return undefined;
  return Math.max(0, now - then);
}

/** The fields every outcome line may carry besides its own. */
export interface LineContext {
  /** Lambda's request id, so the line can be found beside the invocation's other logs. */
  readonly requestId?: string;
  readonly now?: number;
  readonly out?: LineWriter;
}

function context(ctx: LineContext) {
  return ctx.requestId ? { requestId: ctx.requestId } : {};
}

/** The command was sent: `CommandsSent` + 1. */
export function commandSent(
  hook: MetricHook,
  line: { instanceId: string; commandId?: string },
  ctx: LineContext = {},
): EmfDocument {
  const document = emfDocument(hook, [{ metric: 'commandsSent', value: 1 }], {
    level: 'INFO', message: 'command sent', ...context(ctx), ...line,
  }, {}, ctx.now);
  writeDocument(document, ctx.out);
  return document;
}

/**
 * The command could not be sent and the action is being completed without it:
 * `CommandsNotSent` + 1, by reason and in total.
 */
export function commandNotSent(
  hook: MetricHook,
  line: { instanceId: string; reason: NotSentReason; step: string; error?: string },
  ctx: LineContext = {},
): EmfDocument {
  const { reason, ...rest } = line;
  const document = emfDocument(hook, [{ metric: 'commandsNotSent', value: 1 }], {
    level: 'ERROR', message: 'command not sent', ...context(ctx), ...rest,
  }, { reason }, ctx.now);
  writeDocument(document, ctx.out);
  return document;
}

/**
 * A command reached a final status: `CommandsEnded` + 1 under its status, and
 * `CommandsFailed` + 1 for any status but `Success`.
 */
export function commandEnded(
  hook: MetricHook,
  line: { instanceId: string; commandId: string; status: string },
  ctx: LineContext = {},
): EmfDocument {
  const { status, ...rest } = line;
  const failed = status !== 'Success';
  const document = emfDocument(hook, [
    { metric: 'commandsEnded', value: 1 },
    ...(failed ? [{ metric: 'commandsFailed' as const, value: 1 }] : []),
  ], {
    level: failed ? 'ERROR' : 'INFO', message: 'command ended', ...context(ctx), ...rest,
  }, { status }, ctx.now);
  writeDocument(document, ctx.out);
  return document;
}

/**
 * The handler completed a lifecycle action: `ActionsCompleted` + 1 by result
 * and in total, and `ActionDuration` since the lifecycle event's `time` when
 * that time is given. Give no `eventTime` for an action of a stage that does
 * not run the commands: completed at once, it would pull the duration of the
 * actions that do run them towards zero.
 */
export function actionCompleted(
  hook: MetricHook,
  line: { instanceId: string; result: 'CONTINUE' | 'ABANDON'; reason: string; eventTime?: string },
  ctx: LineContext = {},
): EmfDocument {
  const { result, eventTime, ...rest } = line;
  const now = ctx.now ?? Date.now();
  const duration = millisecondsSince(eventTime, now);
  const document = emfDocument(hook, [
    { metric: 'actionsCompleted', value: 1 },
    ...(duration !== undefined ? [{ metric: 'actionDuration' as const, value: duration }] : []),
  ], {
    level: result === 'CONTINUE' ? 'INFO' : 'ERROR', message: 'lifecycle action completed', ...context(ctx), ...rest,
  }, { result }, now);
  writeDocument(document, ctx.out);
  return document;
}

/** A reconciliation pass completed an action that its events had left unfinished: `ActionsRepaired` + 1. */
export function actionRepaired(
  hook: MetricHook,
  line: { instanceId: string; result: 'CONTINUE' | 'ABANDON'; reason: string },
  ctx: LineContext = {},
): EmfDocument {
  const document = emfDocument(hook, [{ metric: 'actionsRepaired', value: 1 }], {
    level: 'WARN', message: 'lifecycle action repaired', ...context(ctx), ...line,
  }, {}, ctx.now);
  writeDocument(document, ctx.out);
  return document;
}
