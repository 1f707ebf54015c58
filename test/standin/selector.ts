import type { Selector } from './options';
import type { Rng } from './rng';

/**
 * Decides whether a fault fires on one matching call or event, from the fields
 * every fault shares (`Selector`), and counts its hits for `skip` and `times`.
 * Callers check their own fields (operation, event kind) first.
 */
export class FaultGate<F extends Selector> {
  private readonly hits = new Map<F, { matched: number; hit: number }>();

  constructor(private readonly rng: Rng) {}

  fires(fault: F, instance: number | undefined, atMs: number): boolean {
    if (fault.instances && (instance === undefined || !fault.instances.includes(instance))) return false;
    if (fault.fromMs !== undefined && atMs < fault.fromMs) return false;
    if (fault.untilMs !== undefined && atMs >= fault.untilMs) return false;
    const count = this.hits.get(fault) ?? { matched: 0, hit: 0 };
    this.hits.set(fault, count);
    count.matched++;
    if (count.matched <= (fault.skip ?? 0)) return false;
    if (fault.times !== undefined && count.hit >= fault.times) return false;
    if (fault.rate !== undefined && !this.rng.chance(fault.rate)) return false;
    count.hit++;
    return true;
  }
}
