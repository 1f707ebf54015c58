/**
 * EventBridge as the hook sees it: the rules of the synthesized template decide
 * which events reach the function; each matching event is delivered at least
 * once, after a delay drawn per delivery (so events reorder), with duplicates
 * and losses as the options say. An event it cannot hand to the target within
 * the target's maximum event age goes to the target's dead-letter queue.
 *
 * Sources: Amazon EventBridge User Guide, "Events from AWS services" (Auto
 * Scaling and Systems Manager events are delivered on a best-effort basis),
 * "Event retry policy and using dead-letter queues" (MaximumEventAgeInSeconds,
 * MaximumRetryAttempts, 24 hours by default), "Amazon EventBridge event
 * patterns" (the matchers below).
 */
import type { VirtualClock } from './clock';
import type { DeadLetter } from './lambda';
import type { EventMeta } from './model';
import type { EventFault, EventOptions } from './options';
import type { Range, Rng } from './rng';
import { CallHistory, FaultGate } from './selector';

export interface EventRecord {
  readonly id: string;
  readonly kind: EventMeta['kind'];
  readonly instance?: number;
  readonly status?: string;
  readonly atMs: number;
  /** A rule of the hook matched it. */
  readonly matched: boolean;
  lost: boolean;
  /** Copies EventBridge gave up on because they were older than the target's maximum event age. */
  expired: number;
  /** When each copy was handed to Lambda, virtual ms. */
  readonly deliveredAtMs: number[];
}

/** A function and the rules that invoke it. */
export interface Target {
  readonly patterns: ReadonlyArray<Record<string, unknown>>;
  /** The rule target's RetryPolicy MaximumEventAgeInSeconds. */
  readonly maximumEventAgeSeconds: number;
  readonly invoke: (event: Record<string, unknown>, meta: EventMeta) => void;
  /** Whether the rule exists now (CloudFormation's model): a rule not yet created, or deleted, matches nothing. @default always */
  readonly active?: () => boolean;
}

export class EventBus {
  readonly records: EventRecord[] = [];
  /** Events sent to the target's dead-letter queue. */
  readonly deadLetters: DeadLetter[] = [];
  private readonly faultGate: FaultGate<EventFault>;

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    private readonly targets: readonly Target[],
    private readonly options: EventOptions,
    history: CallHistory,
  ) {
    this.faultGate = new FaultGate(rng, history);
  }

  put(event: Record<string, unknown>, meta: EventMeta): void {
    const kinds = this.options.kinds;
    const routed = kinds === undefined || ((meta.kind === 'lifecycle' || meta.kind === 'command-status') && kinds.includes(meta.kind));
    const targets = routed ? this.targets.filter((t) => (t.active?.() ?? true) && t.patterns.some((p) => matches(p, event))) : [];
    const matched = targets.length > 0;
    const record: EventRecord = {
      id: String(event.id),
      kind: meta.kind,
      instance: meta.instance,
      status: meta.status,
      atMs: this.clock.elapsed,
      matched,
      lost: false,
      expired: 0,
      deliveredAtMs: [],
    };
    this.records.push(record);
    if (!matched) return;

    const o = this.options;
    let lost = this.rng.chance(rateFor(o.lossRate, meta));
    let copies = 1 + (this.rng.chance(rateFor(o.duplicateRate, meta)) ? 1 : 0);
    let extraDelay = 0;
    let copyDelay = o.duplicateDelayMs ?? [0, 10_000];
    for (const fault of o.faults ?? []) {
      if (!this.applies(fault, meta)) continue;
      if (fault.lose) lost = true;
      copies += fault.duplicates ?? 0;
      if (fault.delayMs !== undefined) extraDelay += this.rng.draw(fault.delayMs);
      if (fault.duplicateDelayMs !== undefined) copyDelay = fault.duplicateDelayMs;
    }
    record.lost = lost;
    if (lost) return;
    for (const target of targets) this.deliver(event, meta, record, target, copies, extraDelay, copyDelay);
  }

  /** Hands the copies of an event to one target, each after its own delay. */
  private deliver(
    event: Record<string, unknown>,
    meta: EventMeta,
    record: EventRecord,
    target: Target,
    copies: number,
    extraDelay: number,
    copyDelay: Range,
  ): void {
    const o = this.options;
    const first = this.rng.draw(o.delayMs ?? [100, 1_500]) + extraDelay;
    const maxAgeMs = (o.maximumEventAgeSeconds ?? target.maximumEventAgeSeconds) * 1000;
    for (let copy = 0; copy < copies; copy++) {
      const delay = copy === 0 ? first : first + this.rng.draw(copyDelay);
      if (delay > maxAgeMs) {
        // EventBridge stops retrying the target once the event is older than its maximum age.
        record.expired++;
        this.deadLetters.push({
          eventId: record.id,
          kind: meta.kind === 'command' ? 'other' : meta.kind,
          instance: meta.instance,
          attempts: 0,
          error: 'MaximumEventAgeExceeded',
          by: 'eventbridge',
        });
        continue;
      }
      this.clock.schedule(delay, () => {
        record.deliveredAtMs.push(this.clock.elapsed);
        target.invoke(event, meta);
      });
    }
  }

  private applies(fault: EventFault, meta: EventMeta): boolean {
    if (meta.kind === 'command' || meta.kind === 'registration-check') return false;
    if (fault.kind && fault.kind !== meta.kind) return false;
    if (fault.status && fault.status !== meta.status) return false;
    return this.faultGate.fires(fault, meta.instance, this.clock.elapsed);
  }

}

/** A rate given for all events or by kind (command-level status events have no kind of their own). */
function rateFor(rate: EventOptions['lossRate'], meta: EventMeta): number | undefined {
  if (rate === undefined || typeof rate === 'number') return rate;
  return meta.kind === 'command' || meta.kind === 'registration-check' ? undefined : rate[meta.kind];
}

/**
 * EventBridge pattern matching as AWS's event-ruler does it (the Java test in
 * test/eventbridge/ holds this to it): the event is read as its leaves, each a
 * path of field names and a value (an element of an array of values is a leaf
 * at the array's path; an object or an empty array is no leaf). Each field of
 * the pattern must match a leaf at its path (`exists: false`: there is none),
 * and leaves taken from one array of objects must come from the same element.
 * Operators: exact values, `prefix`, `anything-but` (a value, a list, a
 * prefix), `exists`; any other throws rather than guess.
 */
export function matches(pattern: Record<string, unknown>, event: unknown): boolean {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  // An event is matched against every rule, and a rule's pattern against every event: each is read once.
  let leaves = leavesOf.get(event);
  if (!leaves) {
    leaves = [];
    collectLeaves(event, '', [], leaves);
    leavesOf.set(event, leaves);
  }
  let fields = fieldsOf.get(pattern);
  if (!fields) {
    fields = patternFields(pattern, '');
    fieldsOf.set(pattern, fields);
  }
  return satisfy(fields, 0, leaves, []);
}

const leavesOf = new WeakMap<object, Leaf[]>();
const fieldsOf = new WeakMap<object, PatternField[]>();

/** A value of the event at a dotted path, with the element it belongs to in each array of objects above it. */
interface Leaf {
  readonly path: string;
  readonly value: unknown;
  readonly elements: ReadonlyArray<readonly [string, number]>;
}

interface PatternField {
  readonly path: string;
  readonly matchers: readonly unknown[];
}

let arrayIds = 0;

function collectLeaves(value: unknown, path: string, elements: ReadonlyArray<readonly [string, number]>, out: Leaf[]): void {
  if (Array.isArray(value)) {
    const id = `a${arrayIds++}`;
    value.forEach((item, index) => {
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) collectLeaves(item, path, [...elements, [id, index]], out);
      else collectLeaves(item, path, elements, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) collectLeaves(item, path === '' ? key : `${path}.${key}`, elements, out);
  } else {
    out.push({ path, value, elements });
  }
}

function patternFields(pattern: Record<string, unknown>, path: string): PatternField[] {
  return Object.entries(pattern).flatMap(([key, rule]) => {
    const at = path === '' ? key : `${path}.${key}`;
    if (Array.isArray(rule)) return [{ path: at, matchers: rule }];
    if (typeof rule === 'object' && rule !== null) return patternFields(rule as Record<string, unknown>, at);
    throw new Error(`unsupported event pattern at ${at}: ${JSON.stringify(rule)}`);
  });
}

/** Whether the fields from `index` on match leaves consistent with those already chosen. */
function satisfy(fields: readonly PatternField[], index: number, leaves: readonly Leaf[], chosen: readonly Leaf[]): boolean {
  if (index === fields.length) return true;
  const field = fields[index];
  const atPath = leaves.filter((leaf) => leaf.path === field.path);
  return field.matchers.some((matcher) => {
    if (isExists(matcher)) {
      if (!matcher.exists) return atPath.length === 0 && satisfy(fields, index + 1, leaves, chosen);
    }
    return atPath.some((leaf) => matchValue(matcher, leaf.value) && consistent(leaf, chosen)
      && satisfy(fields, index + 1, leaves, [...chosen, leaf]));
  });
}

function isExists(matcher: unknown): matcher is { exists: boolean } {
  return typeof matcher === 'object' && matcher !== null && 'exists' in matcher;
}

/** Leaves from one array of objects must come from the same element of it. */
function consistent(leaf: Leaf, chosen: readonly Leaf[]): boolean {
  return chosen.every((other) => leaf.elements.every(([id, i]) => other.elements.every(([otherId, j]) => otherId !== id || i === j)));
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return rule === value;
  const r = rule as Record<string, unknown>;
  const keys = Object.keys(r);
  if (keys.length !== 1) throw new Error(`unsupported event pattern matcher ${JSON.stringify(rule)}`);
  if ('exists' in r) return r.exists === true;
  if ('prefix' in r && typeof r.prefix === 'string') return typeof value === 'string' && value.startsWith(r.prefix);
  if ('anything-but' in r) {
    const but = r['anything-but'];
    if (typeof but === 'object' && but !== null && !Array.isArray(but)) {
      const inner = but as Record<string, unknown>;
      // A value that is not a string (a number, null) has no prefix to exclude.
      if (Object.keys(inner).length === 1 && typeof inner.prefix === 'string') return typeof value !== 'string' || !value.startsWith(inner.prefix);
      throw new Error(`unsupported event pattern matcher ${JSON.stringify(rule)}`);
    }
    return Array.isArray(but) ? !but.includes(value) : but !== value;
  }
  throw new Error(`unsupported event pattern matcher ${JSON.stringify(rule)}`);
}
