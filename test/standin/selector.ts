import type { Selector } from './options';
import type { Rng } from './rng';

/** The API calls answered so far, by operation and instance, for faults armed by a call (`afterCall`). */
export class CallHistory {
  private readonly seen = new Set<string>();

  record(operation: string, instance: number | undefined, applied: boolean): void {
    this.seen.add(`${operation} ${instance ?? '-'} any`);
    if (applied) this.seen.add(`${operation} ${instance ?? '-'} applied`);
  }

  has(operation: string, instance: number | undefined, applied: boolean): boolean {
    return this.seen.has(`${operation} ${instance ?? '-'} ${applied ? 'applied' : 'any'}`);
  }
}

/**
 * Decides whether a fault fires on one matching call or event, from the fields
 * every fault shares (`Selector`), and counts its hits for `skip` and `times`
 * (for each instance apart with `perInstance`). Callers check their own fields
 * (operation, event kind) first.
 */
export class FaultGate<F extends Selector> {
  private readonly hits = new Map<F, Map<string, { matched: number; hit: number }>>();

  constructor(private readonly rng: Rng, private readonly history: CallHistory) {}

  fires(fault: F, instance: number | undefined, atMs: number): boolean {
    if (fault.instances && (instance === undefined || !fault.instances.includes(instance))) return false;
    if (fault.fromMs !== undefined && atMs < fault.fromMs) return false;
    if (fault.untilMs !== undefined && atMs >= fault.untilMs) return false;
    if (fault.afterCall && !this.history.has(fault.afterCall.operation, instance, fault.afterCall.applied ?? false)) return false;
    const byKey = this.hits.get(fault) ?? new Map<string, { matched: number; hit: number }>();
    this.hits.set(fault, byKey);
    const key = fault.perInstance ? String(instance ?? '-') : '';
    const count = byKey.get(key) ?? { matched: 0, hit: 0 };
    byKey.set(key, count);
    count.matched++;
    if (count.matched <= (fault.skip ?? 0)) return false;
    if (fault.times !== undefined && count.hit >= fault.times) return false;
    if (fault.rate !== undefined && !this.rng.chance(fault.rate)) return false;
    count.hit++;
    return true;
  }
}
