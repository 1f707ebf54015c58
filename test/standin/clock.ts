import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The simulated clock. While installed it replaces the global `setTimeout`,
 * `setInterval`, their `clear*` functions and `Date`, so the handler, the AWS
 * SDK's retry backoff and the stand-in all live on virtual time. `setImmediate`,
 * `process.nextTick` and socket I/O stay real: HTTP between the SDK and the
 * stand-in runs at full speed, and virtual time only moves when nothing is in
 * flight (see `run`).
 */

/** Something whose timers die with it: a Lambda execution environment. */
export interface TimerOwner {
  readonly alive: boolean;
}

/** The async context a timer was created in, restored when it fires. */
export interface ExecutionContext {
  readonly owner: TimerOwner;
}

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly delayMs: number;
  readonly seq: number;
  readonly fn: () => void;
  readonly context: ExecutionContext | undefined;
  readonly repeatMs: number | undefined;
  cancelled: boolean;
}

/** What `setTimeout` returns under the clock; enough of Node's `Timeout` for the SDK. */
class TimerHandle {
  constructor(private readonly clock: VirtualClock, readonly id: number) {}
  ref() { return this; }
  unref() { return this; }
  hasRef() { return true; }
  refresh() { this.clock.refresh(this.id); return this; }
  [Symbol.toPrimitive]() { return this.id; }
}

const RealDate = Date;
const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  Date: globalThis.Date,
};

/** A virtual start time that makes logs and dates look ordinary and keeps runs repeatable. */
export const DEFAULT_EPOCH = RealDate.UTC(2026, 0, 5, 9, 0, 0);

export class VirtualClock {
  /** Virtual milliseconds since the epoch. */
  private nowMs: number;
  private readonly startMs: number;
  private readonly heap: Timer[] = [];
  private readonly byId = new Map<number, Timer>();
  private nextId = 1;
  private nextSeq = 0;
  private installed = false;
  /** The execution context of the code running now, as seen by the timers it creates. */
  readonly context = new AsyncLocalStorage<ExecutionContext>();
  /** Errors thrown by timer callbacks: they would be uncaught exceptions in Node. */
  readonly errors: unknown[] = [];

  constructor(epochMs: number = DEFAULT_EPOCH) {
    this.nowMs = epochMs;
    this.startMs = epochMs;
  }

  /** Virtual time, ms since the epoch. */
  get now(): number { return this.nowMs; }

  /** Virtual time elapsed since the clock was created, in ms. */
  get elapsed(): number { return this.nowMs - this.startMs; }

  /** Runs `fn` after `delayMs` of virtual time, outside any execution environment. */
  schedule(delayMs: number, fn: () => void): number {
    return this.add(delayMs, fn, undefined, undefined).id;
  }

  cancel(id: number | undefined): void {
    if (id === undefined) return;
    const timer = this.byId.get(id);
    if (timer) {
      timer.cancelled = true;
      this.byId.delete(id);
    }
  }

  refresh(id: number): void {
    const timer = this.byId.get(id);
    if (!timer) return;
    timer.cancelled = true;
    this.byId.delete(id);
    const renewed = this.add(timer.delayMs, timer.fn, timer.context, timer.repeatMs, id);
    this.byId.set(id, renewed);
  }

  /** Replaces the global timer functions and `Date` with virtual ones. */
  install(): void {
    if (this.installed) throw new Error('clock already installed');
    this.installed = true;
    const clock = this;
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      new TimerHandle(clock, clock.add(nodeDelay(ms), () => fn(...args), clock.context.getStore(), undefined).id);
    g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      new TimerHandle(clock, clock.add(nodeDelay(ms), () => fn(...args), clock.context.getStore(), nodeDelay(ms)).id);
    const clear = (handle: unknown) => {
      if (handle === undefined || handle === null) return;
      clock.cancel(Number(handle));
    };
    g.clearTimeout = clear;
    g.clearInterval = clear;
    g.Date = new Proxy(RealDate, {
      construct(target, args: unknown[], newTarget) {
        return args.length === 0
          ? Reflect.construct(target, [clock.nowMs], newTarget)
          : Reflect.construct(target, args, newTarget);
      },
      apply() {
        return new RealDate(clock.nowMs).toString();
      },
      get(target, prop, receiver) {
        if (prop === 'now') return () => clock.nowMs;
        return Reflect.get(target, prop, receiver);
      },
    });
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    Object.assign(globalThis, real);
  }

  /**
   * The discrete-event loop. Repeatedly waits until the process is quiet (no
   * request in flight that is not parked by the stand-in on virtual time, no
   * file or DNS work pending, microtasks drained), then advances virtual time
   * to the next timer and fires every timer due then. Stops when no timer is
   * left, when `stop()` says so, or at `untilElapsedMs`.
   */
  async run(opts: {
    busy: () => boolean;
    /** A count that grows while work in flight gets done (requests answered): busy without progress for `stallMs` is a stall. */
    progress?: () => number;
    stop?: () => boolean;
    untilElapsedMs: number;
    stallMs?: number;
  }): Promise<'idle' | 'stopped' | 'horizon'> {
    const limit = this.startMs + opts.untilElapsedMs;
    for (;;) {
      await this.quiesce(opts.busy, opts.stallMs ?? 30_000, opts.progress);
      if (opts.stop?.()) return 'stopped';
      const next = this.peek();
      if (!next) return 'idle';
      if (next.at > limit) {
        this.nowMs = limit;
        return 'horizon';
      }
      this.nowMs = Math.max(this.nowMs, next.at);
      // Fire everything due at this instant, in order, before checking for quiet again.
      for (let t = this.peek(); t && t.at <= this.nowMs; t = this.peek()) {
        this.pop();
        this.fire(t);
      }
    }
  }

  /**
   * Waits until three consecutive turns of the event loop found nothing in
   * flight. Work that stays in flight with no progress for `stallMs` of real
   * time is a stall (a burst of calls that take no virtual time, each answered
   * in turn, is not).
   */
  private async quiesce(busy: () => boolean, stallMs: number, progress?: () => number): Promise<void> {
    let quiet = 0;
    let busySince: number | undefined;
    let done = progress?.();
    while (quiet < 3) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (busy() || ioPending()) {
        quiet = 0;
        const now = progress?.();
        if (now !== done) {
          done = now;
          busySince = undefined;
        }
        busySince ??= performance.now();
        if (performance.now() - busySince > stallMs) {
          throw new Error(`stand-in stalled: work in flight for ${stallMs} ms of real time (${process.getActiveResourcesInfo().join(', ')})`);
        }
      } else {
        quiet++;
      }
    }
  }

  private fire(t: Timer): void {
    if (t.repeatMs !== undefined) {
      const again = this.add(t.repeatMs, t.fn, t.context, t.repeatMs, t.id);
      this.byId.set(t.id, again);
    } else {
      this.byId.delete(t.id);
    }
    try {
      this.context.run(t.context as ExecutionContext, t.fn);
    } catch (error) {
      this.errors.push(error);
    }
  }

  private add(delayMs: number, fn: () => void, context: ExecutionContext | undefined, repeatMs: number | undefined, reuseId?: number): Timer {
    // Whole milliseconds keep the records readable; the stand-in's own events may be due at once.
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? Math.round(delayMs) : 0;
    const timer: Timer = {
      id: reuseId ?? this.nextId++,
      at: this.nowMs + delay,
      delayMs: delay,
      seq: this.nextSeq++,
      fn,
      context,
      repeatMs,
      cancelled: false,
    };
    this.byId.set(timer.id, timer);
    this.push(timer);
    return timer;
  }

  /** The next live timer, discarding cancelled ones and those of dead owners (a frozen environment never wakes). */
  private peek(): Timer | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (!top.cancelled && (top.context?.owner.alive ?? true)) return top;
      this.pop();
      if (!top.cancelled) this.byId.delete(top.id);
    }
    return undefined;
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = Math.floor((i - 1) / 2);
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Node runs a timer of 0, a negative or a non-numeric delay after 1 ms, and drops fractions. */
function nodeDelay(ms: unknown): number {
  const n = Math.trunc(Number(ms));
  return n >= 1 && n <= 2_147_483_647 ? n : 1;
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** File reads (the SDK's shared config files) and DNS lookups run on real time: wait for them. */
function ioPending(): boolean {
  return process.getActiveResourcesInfo().some((r) => r.startsWith('FSReq') || r === 'GetAddrInfoReqWrap' || r === 'FileHandle');
}

export { RealDate };
