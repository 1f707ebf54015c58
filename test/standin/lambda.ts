/**
 * Lambda's asynchronous invocation as EventBridge uses it: events wait in a
 * queue for a free execution environment (up to the concurrency limit); each
 * environment makes its own handler at its cold start and runs one event at a
 * time under the function's timeout; a failed, crashed or timed-out event is
 * retried after a minute, then two, and then goes to the dead-letter list.
 */
import type http from 'node:http';
import type { TimerOwner, VirtualClock } from './clock';
import type { EventMeta } from './model';
import type { EventKind, Handler, HandlerFactory, LambdaContext, LambdaFault, LambdaOptions } from './options';
import type { Rng } from './rng';
import { CallHistory, FaultGate } from './selector';
import { CALL_HEADER, type InvocationContext } from './tracker';

export interface InvocationRecord {
  /** This attempt's own id, sent with every API call it makes (the stand-in's key for the attempt). */
  readonly id: string;
  /** The request id the handler sees (`awsRequestId`): the first attempt's, which Lambda's retries keep. */
  readonly requestId: string;
  /** The function invoked. */
  readonly functionName: string;
  readonly env: number;
  /** 1 for the first delivery of an event; 2, 3 for Lambda's retries. */
  readonly attempt: number;
  readonly eventId: string;
  readonly kind: EventKind | 'registration-check' | 'other';
  readonly instance?: number;
  /** The command status of a `command-status` event. */
  readonly status?: string;
  readonly coldStart: boolean;
  readonly queuedAtMs: number;
  /** Virtual ms from the start of the scenario. */
  startMs: number;
  endMs?: number;
  /** Billed duration: virtual ms from start to end, rounded up to the millisecond. */
  billedMs?: number;
  /** API calls made. */
  calls: number;
  result: 'running' | 'ok' | 'error' | 'timeout' | 'crash';
  /** What the handler returned. */
  value?: unknown;
  error?: string;
}

export interface DeadLetter {
  readonly eventId: string;
  readonly kind: EventKind | 'registration-check' | 'other';
  readonly instance?: number;
  readonly attempts: number;
  readonly error: string;
  /** Who gave up: Lambda (retries exhausted, or the event too old) or EventBridge (the target's maximum event age). */
  readonly by: 'lambda' | 'eventbridge';
}

export interface FunctionConfig {
  readonly functionName: string;
  readonly timeoutSeconds: number;
  readonly memoryMB: number;
  readonly retryAttempts: number;
  /** Older events are discarded to the dead-letter queue, retries included. */
  readonly maximumEventAgeSeconds: number;
  /** The function's environment variables: set in the process while its code runs. */
  readonly environment: Readonly<Record<string, string>>;
  readonly account: string;
  readonly region: string;
}

class Environment implements TimerOwner {
  alive = true;
  busy = false;
  handler?: Handler;
  constructor(readonly id: number) {}
}

interface Queued {
  readonly event: Record<string, unknown>;
  readonly meta: EventMeta;
  readonly attempt: number;
  readonly queuedAtMs: number;
  /** When Lambda first received the event: its age counts from here. */
  readonly receivedAtMs: number;
  /** The request id of the event's first attempt, which Lambda's retries keep. */
  readonly requestId?: string;
}

interface Running {
  readonly record: InvocationRecord;
  readonly env: Environment;
  readonly event: Queued;
  timeoutTimer?: number;
  fault?: LambdaFault;
  /** Set by a `hang` fault: only the timeout ends the invocation now. */
  frozen: boolean;
}

export class LambdaService {
  readonly invocations: InvocationRecord[] = [];
  readonly deadLetters: DeadLetter[] = [];
  private readonly queue: Queued[] = [];
  private readonly envs: Environment[] = [];
  private readonly running = new Map<string, Running>();
  private readonly faultGate: FaultGate<LambdaFault>;

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    private readonly config: FunctionConfig,
    private readonly options: LambdaOptions,
    private readonly factory: HandlerFactory,
    history: CallHistory,
  ) {
    this.faultGate = new FaultGate(rng, history);
  }

  /** An asynchronous invocation, as an EventBridge rule target makes it. */
  invoke(event: Record<string, unknown>, meta: EventMeta): void {
    this.queue.push({ event, meta, attempt: 1, queuedAtMs: this.clock.elapsed, receivedAtMs: this.clock.elapsed });
    this.pump();
  }

  /** Execution environments created (cold starts). */
  get environments(): number {
    return this.envs.length;
  }

  /** Called for every API request an invocation makes: counts it and arms `afterCalls` faults. */
  readonly observeRequest = (context: InvocationContext, request: http.ClientRequest): void => {
    const run = this.running.get(context.invocationId);
    if (!run) return;
    run.record.calls++;
    request.setHeader(CALL_HEADER, String(run.record.calls));
    const fault = run.fault;
    if (fault && run.record.calls === fault.afterCalls) {
      // The SDK's own response listener was registered first, so the call completes
      // and the fault strikes before the handler sees the answer.
      request.once('response', () => this.strike(run, fault));
    }
  };

  /** The invocation whose request this is, while it runs. */
  runningRecord(invocationId: string): InvocationRecord | undefined {
    return this.running.get(invocationId)?.record;
  }

  /** The runtime of a running invocation dies as this request's answer arrives, before the handler sees it. */
  crashOnAnswer(invocationId: string, request: http.ClientRequest): void {
    const run = this.running.get(invocationId);
    if (run) request.once('response', () => this.strike(run, { afterCalls: run.record.calls, effect: 'crash' }));
  }

  /** A copy of a running invocation's event is delivered now (EventBridge and Step Functions deliver at least once). */
  deliverAgain(invocationId: string): void {
    const run = this.running.get(invocationId);
    if (!run) return;
    const { requestId: _, ...event } = run.event;
    this.queue.push({ ...event, attempt: 1, queuedAtMs: this.clock.elapsed, receivedAtMs: this.clock.elapsed });
    this.pump();
  }

  /** Whether an invocation other than these runs or waits to run. */
  busyBesides(invocationIds: readonly string[]): boolean {
    return this.queue.length > 0 || [...this.running.keys()].some((id) => !invocationIds.includes(id));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (this.tooOld(next)) {
        this.queue.shift();
        this.deadLetter(next, 'EventAgeExceeded', next.attempt - 1);
        continue;
      }
      const env = this.takeEnvironment();
      if (!env) return;
      this.start(env, this.queue.shift()!);
    }
  }

  /** Lambda discards an event older than the function's maximum event age ("Configuring error handling for asynchronous invocation"). */
  private tooOld(queued: Queued): boolean {
    return this.clock.elapsed - queued.receivedAtMs > this.config.maximumEventAgeSeconds * 1000;
  }

  private takeEnvironment(): Environment | undefined {
    // Lambda prefers a warm environment; the most recently freed one is the warmest.
    for (let i = this.envs.length - 1; i >= 0; i--) {
      const env = this.envs[i];
      if (env.alive && !env.busy) return env;
    }
    const alive = this.envs.filter((e) => e.alive).length;
    if (alive >= (this.options.concurrency ?? 100)) return undefined;
    const env = new Environment(this.envs.length);
    this.envs.push(env);
    return env;
  }

  private start(env: Environment, queued: Queued): void {
    env.busy = true;
    const detail = queued.event.detail as Record<string, unknown> | undefined;
    const id = this.rng.uuid();
    const record: InvocationRecord = {
      id,
      requestId: queued.requestId ?? id,
      functionName: this.config.functionName,
      env: env.id,
      attempt: queued.attempt,
      eventId: eventIdOf(queued.event),
      kind: queued.meta.kind === 'command' ? 'other' : queued.meta.kind,
      instance: queued.meta.instance,
      status: typeof detail?.status === 'string' ? detail.status : undefined,
      coldStart: env.handler === undefined,
      queuedAtMs: queued.queuedAtMs,
      startMs: this.clock.elapsed,
      calls: 0,
      result: 'running',
    };
    this.invocations.push(record);
    const run: Running = { record, env, event: queued, frozen: false };
    this.running.set(record.id, run);
    const context: InvocationContext = { owner: env, invocationId: record.id };

    if (record.coldStart) {
      try {
        this.useEnvironment();
        this.clock.context.run(context, () => { env.handler = this.factory(); });
      } catch (error) {
        this.end(run, 'error', `Runtime.ImportModuleError: ${describe(error)}`);
        return;
      }
      this.clock.schedule(this.options.initMs ?? 200, () => this.begin(run, context));
    } else {
      this.begin(run, context);
    }
  }

  private begin(run: Running, context: InvocationContext): void {
    const { record, env } = run;
    record.startMs = this.clock.elapsed;
    const timeoutMs = this.config.timeoutSeconds * 1000;
    const deadline = this.clock.now + timeoutMs;
    run.timeoutTimer = this.clock.schedule(timeoutMs, () => {
      env.alive = false;
      this.end(run, 'timeout', `Task timed out after ${this.config.timeoutSeconds.toFixed(2)} seconds`);
    });
    run.fault = this.pickFault(record, run.event.meta);
    if (run.fault?.afterCalls === 0) {
      this.strike(run, run.fault);
      if (run.fault.effect === 'crash') return;
    }
    const lambdaContext: LambdaContext = {
      functionName: this.config.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.config.region}:${this.config.account}:function:${this.config.functionName}`,
      memoryLimitInMB: String(this.config.memoryMB),
      awsRequestId: record.requestId,
      logGroupName: `/aws/lambda/${this.config.functionName}`,
      logStreamName: `2026/01/05/[$LATEST]${env.id.toString(16).padStart(32, '0')}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - this.clock.now),
    };
    if (run.frozen) return;
    // Functions share this process: the handler reads its configuration from the environment as it starts.
    this.useEnvironment();
    this.clock.context.run(context, () => {
      let settled: Promise<unknown>;
      try {
        settled = Promise.resolve(env.handler!(run.event.event, lambdaContext));
      } catch (error) {
        settled = Promise.reject(error);
      }
      settled.then(
        (value) => this.end(run, 'ok', undefined, value),
        (error: unknown) => this.end(run, 'error', describe(error)),
      );
    });
  }

  private useEnvironment(): void {
    Object.assign(process.env, this.config.environment, {
      AWS_LAMBDA_FUNCTION_NAME: this.config.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.config.memoryMB),
    });
  }

  private strike(run: Running, fault: LambdaFault): void {
    if (run.record.result !== 'running') return;
    run.env.alive = false;
    if (fault.effect === 'crash') {
      this.end(run, 'crash', 'Runtime.ExitError: the runtime exited unexpectedly');
    } else {
      run.frozen = true;
    }
  }

  private end(run: Running, result: InvocationRecord['result'], error?: string, value?: unknown): void {
    const { record, env } = run;
    if (record.result !== 'running') return;
    if (run.frozen && result !== 'timeout') return;
    this.clock.cancel(run.timeoutTimer);
    this.running.delete(record.id);
    record.result = result;
    record.endMs = this.clock.elapsed;
    record.billedMs = Math.max(1, Math.ceil(record.endMs - record.startMs));
    record.value = value;
    record.error = error;
    env.busy = false;
    if (result !== 'ok') this.retryOrDeadLetter({ ...run.event, requestId: record.requestId }, error ?? result);
    this.pump();
  }

  private retryOrDeadLetter(queued: Queued, error: string): void {
    if (queued.attempt <= this.config.retryAttempts) {
      const delays = this.options.retryDelaysMs ?? [60_000, 120_000];
      const delay = delays[Math.min(queued.attempt - 1, delays.length - 1)];
      this.clock.schedule(delay, () => {
        this.queue.push({ ...queued, attempt: queued.attempt + 1, queuedAtMs: this.clock.elapsed });
        this.pump();
      });
    } else {
      this.deadLetter(queued, error);
    }
  }

  private deadLetter(queued: Queued, error: string, attempts = queued.attempt): void {
    this.deadLetters.push({
      eventId: eventIdOf(queued.event),
      kind: queued.meta.kind === 'command' ? 'other' : queued.meta.kind,
      instance: queued.meta.instance,
      attempts,
      error,
      by: 'lambda',
    });
  }

  private pickFault(record: InvocationRecord, meta: EventMeta): LambdaFault | undefined {
    return (this.options.faults ?? []).find((fault) => (!fault.kind || fault.kind === meta.kind)
      && (fault.attempt === undefined || fault.attempt === record.attempt)
      && this.faultGate.fires(fault, meta.instance, record.startMs));
  }

}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The EventBridge event's id, also when a rule's input transformer wrapped it (`{ hook, event }`). */
function eventIdOf(payload: Record<string, unknown>): string {
  const inner = payload.event as Record<string, unknown> | undefined;
  return String(payload.id ?? inner?.id);
}
