/**
 * One fault at one call of one invocation (`ScenarioOptions.callPoint`), for
 * sweeps that run a path once with each fault after each of its calls. The
 * point is found as the invocation makes its requests (its `call`-th request,
 * numbered by lambda.ts); the server that answers the call applies it, then
 * loses its answer or holds it while another invocation runs:
 * - `crash`: the runtime dies as the answer arrives (lambda.ts);
 * - `answer-lost`: the server answers a 500 after the call took effect;
 * - `copy`, `pass`, `next-action`: the server applies the call, starts the
 *   other work at once, and answers only when no other invocation runs or
 *   waits, at least `HOLD_MS` later (time enough for EventBridge to deliver
 *   the next action's lifecycle event).
 */
import type http from 'node:http';
import type { VirtualClock } from './clock';
import type { InvocationRecord, LambdaService } from './lambda';
import type { CallPoint } from './options';
import { CALL_POINT_HEADER, type InvocationContext } from './tracker';

/** The shortest hold of an answer: longer than EventBridge's delivery delay. */
const HOLD_MS = 2_000;
/** How often a held answer looks whether the other work is done, virtual ms. */
const POLL_MS = 100;

/** What the scenario starts at a `pass` or `next-action` point. */
export interface Interjections {
  /** A reconciliation pass, as the scheduled rule invokes it. */
  pass(): void;
  /** The instance's next lifecycle action starts as soon as it can (every instance's, for undefined). */
  nextAction(instance: number | undefined): void;
}

/** How a server treats a call that carries a call point's fault. */
export type AnswerFault = 'answer-lost' | 'hold';

export function answerFaultOf(req: http.IncomingMessage): AnswerFault | undefined {
  const value = req.headers[CALL_POINT_HEADER];
  return value === 'answer-lost' || value === 'hold' ? value : undefined;
}

export class CallPoints {
  /** Answers held now: the clock may advance while they wait. */
  parked = 0;
  /** Whether the point was reached (a run without it is no run of the point). */
  reached = false;
  private held?: InvocationRecord;

  constructor(
    private readonly clock: VirtualClock,
    private readonly lambda: LambdaService,
    private readonly point: CallPoint | undefined,
    private readonly interjections: Interjections,
  ) {}

  /** Called for every request an invocation makes, after lambda.ts numbered it. */
  readonly observeRequest = (context: InvocationContext, request: http.ClientRequest): void => {
    const point = this.point;
    if (!point || this.reached) return;
    const record = this.lambda.runningRecord(context.invocationId);
    if (!record || record.kind !== point.kind || record.attempt !== 1 || record.calls !== point.call) return;
    const nth = this.lambda.invocations.filter((i) => i.kind === point.kind && i.attempt === 1).indexOf(record);
    if (nth !== point.nth) return;
    this.reached = true;
    switch (point.fault) {
      case 'crash':
        this.lambda.crashOnAnswer(record.id, request);
        break;
      case 'answer-lost':
        request.setHeader(CALL_POINT_HEADER, 'answer-lost');
        break;
      default:
        this.held = record;
        request.setHeader(CALL_POINT_HEADER, 'hold');
    }
  };

  /**
   * For the call that carries `hold`, once it took effect: starts the point's
   * other work, and resolves when the call's answer may go out.
   */
  hold(): Promise<void> {
    const held = this.held!;
    switch (this.point!.fault) {
      case 'copy':
        this.lambda.deliverAgain(held.id);
        break;
      case 'pass':
        this.interjections.pass();
        break;
      case 'next-action':
        this.interjections.nextAction(held.instance);
        break;
    }
    this.parked++;
    const from = this.clock.elapsed;
    return new Promise<void>((resolve) => {
      const look = () => {
        if (this.clock.elapsed - from >= HOLD_MS && !this.lambda.busyBesides([held.id])) {
          this.parked--;
          resolve();
        } else {
          this.clock.schedule(POLL_MS, look);
        }
      };
      look();
    });
  }
}
