/**
 * AWS Step Functions as the hooks' registration waits use it: StartExecution
 * of a state machine the construct synthesized, and its definition run on the
 * virtual clock. The interpreter follows the Amazon States Language
 * specification for the states it knows (Wait with `Seconds` or
 * `SecondsPath`, Pass, Choice on numeric and string comparisons, Succeed,
 * Fail, and Task `arn:aws:states:::lambda:invoke` with `InvocationType:
 * Event`); anything else ends the run with an error, so that a definition the
 * stand-in cannot run is never silently skipped. Express workflows: at most 5
 * minutes an execution ("Standard vs. Express Workflows"), at least once
 * ("Execution guarantees": an execution may run more than once).
 */
import { RealDate, type VirtualClock } from './clock';
import type { EventMeta } from './model';
import { ApiError } from './model';
import type { Rng } from './rng';

/** A state machine as the template defines it, and the functions its tasks may invoke. */
export interface StateMachineDefinition {
  readonly arn: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  /** The definition, parsed from the template's DefinitionString. */
  readonly definition: Record<string, any>;
  /** Asynchronous invocation (Lambda's event queue) of a function, by the ARN the definition names. */
  readonly functions: ReadonlyMap<string, (payload: Record<string, unknown>, meta: EventMeta) => void>;
}

export interface StepFunctionsOptions {
  /**
   * Chance that an Express execution runs a second time (at-least-once). The
   * second run starts with the same input when the first ends.
   * @default 0
   */
  readonly duplicateExecutionRate?: number;
}

/** One execution, for reports. */
export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly input: Record<string, unknown>;
  readonly startMs: number;
  endMs?: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  error?: string;
  /** A second run of the same execution (Express at-least-once). */
  readonly duplicate: boolean;
}

/** Express executions end after 5 minutes ("Standard vs. Express Workflows"). */
const EXPRESS_MAX_MS = 5 * 60_000;

export class StepFunctions {
  readonly executions: ExecutionRecord[] = [];
  private readonly machines = new Map<string, StateMachineDefinition>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    machines: readonly StateMachineDefinition[],
    private readonly options: StepFunctionsOptions,
    private readonly instanceOf: (payload: Record<string, unknown>) => number | undefined,
  ) {
    for (const m of machines) this.machines.set(m.arn, m);
  }

  /** `StartExecution` (Step Functions API Reference). */
  startExecution(params: Record<string, unknown>): Record<string, unknown> {
    const arn = params.stateMachineArn;
    if (typeof arn !== 'string') throw new ApiError('ValidationException', 'stateMachineArn is required');
    const machine = this.machines.get(arn);
    if (!machine) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    let input: Record<string, unknown>;
    try {
      input = params.input === undefined ? {} : JSON.parse(String(params.input));
    } catch {
      throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    if (typeof input !== 'object' || input === null) throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not an object');
    const name = typeof params.name === 'string' ? params.name : this.rng.uuid();
    const kind = machine.type === 'EXPRESS' ? 'express' : 'execution';
    const executionArn = arn.replace(':stateMachine:', `:${kind}:`) + `:${name}` + (machine.type === 'EXPRESS' ? `:${this.rng.uuid()}` : '');
    this.run(machine, executionArn, input, false);
    return { executionArn, startDate: new RealDate(this.clock.now) };
  }

  private run(machine: StateMachineDefinition, executionArn: string, input: Record<string, unknown>, duplicate: boolean): void {
    const record: ExecutionRecord = {
      executionArn, stateMachineArn: machine.arn, input, startMs: this.clock.elapsed, status: 'RUNNING', duplicate,
    };
    this.executions.push(record);
    const end = (status: ExecutionRecord['status'], error?: string) => {
      if (record.status !== 'RUNNING') return;
      record.status = status;
      record.error = error;
      record.endMs = this.clock.elapsed;
      if (machine.type === 'EXPRESS' && !duplicate && this.rng.chance(this.options.duplicateExecutionRate ?? 0)) {
        this.run(machine, executionArn, input, true);
      }
    };
    if (machine.type === 'EXPRESS') {
      this.clock.schedule(EXPRESS_MAX_MS, () => end('TIMED_OUT', 'States.Timeout'));
    }
    const step = (stateName: string, data: unknown): void => {
      if (record.status !== 'RUNNING') return;
      const state = machine.definition.States?.[stateName];
      if (!state) throw new Error(`state machine ${machine.arn}: no state ${stateName}`);
      const next = (output: unknown) => {
        if (state.End) end('SUCCEEDED');
        else step(state.Next, output);
      };
      switch (state.Type) {
        case 'Wait': {
          const seconds = state.SecondsPath !== undefined ? readPath(data, state.SecondsPath) : state.Seconds;
          if (!Number.isInteger(seconds) || seconds < 0) {
            end('FAILED', 'States.Runtime');
            return;
          }
          this.clock.schedule(seconds * 1000, () => next(data));
          return;
        }
        case 'Pass':
          next(state.Result ?? data);
          return;
        case 'Succeed':
          end('SUCCEEDED');
          return;
        case 'Fail':
          end('FAILED', state.Error);
          return;
        case 'Choice': {
          const rule = (state.Choices as Array<Record<string, any>>).find((c) => matches(c, data));
          const target = rule?.Next ?? state.Default;
          if (!target) end('FAILED', 'States.NoChoiceMatched');
          else step(target, data);
          return;
        }
        case 'Task': {
          if (state.Resource !== 'arn:aws:states:::lambda:invoke') throw new Error(`the stand-in runs no Task resource ${state.Resource}`);
          const params = resolveParameters(state.Parameters ?? {}, data);
          if (params.InvocationType !== 'Event') throw new Error(`the stand-in runs lambda:invoke with InvocationType Event only, got ${params.InvocationType}`);
          const invoke = machine.functions.get(String(params.FunctionName));
          if (!invoke) {
            end('FAILED', 'Lambda.ResourceNotFoundException');
            return;
          }
          const payload = (params.Payload ?? data) as Record<string, unknown>;
          // An asynchronous invoke returns once Lambda has queued the event (StatusCode 202).
          invoke(payload, { kind: 'registration-check', instance: this.instanceOf(payload) });
          next({ StatusCode: 202, Payload: '' });
          return;
        }
        default:
          throw new Error(`the stand-in runs no ${state.Type} state`);
      }
    };
    step(machine.definition.StartAt, input);
  }
}

/** A reference path (`$`, `$.a.b`), as the Amazon States Language defines it for the fields the stand-in reads. */
function readPath(data: unknown, path: string): any {
  if (path === '$') return data;
  if (!path.startsWith('$.')) throw new Error(`the stand-in reads only $.field paths, got ${path}`);
  let value: any = data;
  for (const part of path.slice(2).split('.')) value = value?.[part];
  return value;
}

/** Parameters: fields whose name ends in `.$` take the value at their path. */
function resolveParameters(params: Record<string, unknown>, data: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => (k.endsWith('.$') ? [k.slice(0, -2), readPath(data, String(v))] : [k, v])));
}

function matches(rule: Record<string, any>, data: unknown): boolean {
  if (rule.And) return (rule.And as Array<Record<string, any>>).every((r) => matches(r, data));
  if (rule.Or) return (rule.Or as Array<Record<string, any>>).some((r) => matches(r, data));
  if (rule.Not) return !matches(rule.Not, data);
  const value = readPath(data, rule.Variable);
  if ('IsPresent' in rule) return (value !== undefined) === rule.IsPresent;
  if ('NumericLessThan' in rule) return typeof value === 'number' && value < rule.NumericLessThan;
  if ('NumericGreaterThanEquals' in rule) return typeof value === 'number' && value >= rule.NumericGreaterThanEquals;
  if ('NumericEquals' in rule) return typeof value === 'number' && value === rule.NumericEquals;
  if ('StringEquals' in rule) return typeof value === 'string' && value === rule.StringEquals;
  if ('BooleanEquals' in rule) return typeof value === 'boolean' && value === rule.BooleanEquals;
  throw new Error(`the stand-in evaluates no Choice rule ${JSON.stringify(rule)}`);
}
