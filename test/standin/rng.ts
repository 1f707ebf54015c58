/* eslint-disable no-bitwise -- a 32-bit PRNG is bit arithmetic by nature */

/** A value, or a range from which each use draws uniformly. */
export type Range = number | readonly [number, number];

/** Seeded pseudo-random numbers (mulberry32), so a scenario plays out the same way each run. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  chance(probability: number | undefined): boolean {
    return probability !== undefined && probability > 0 && this.next() < probability;
  }

  draw(range: Range): number {
    if (typeof range === 'number') return range;
    const [low, high] = range;
    return low + (high - low) * this.next();
  }

  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }

  uuid(): string {
    const h = this.hex(32);
    const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
