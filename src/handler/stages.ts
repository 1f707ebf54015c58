/**
 * Which lifecycle events of a hook run its commands: the stage of an event,
 * read from its `Origin` and `Destination` (warm pools), and the choice the
 * construct passes in the hook's settings. Pure functions: no AWS
 * calls, no logging.
 */
import { LifecycleStage } from '../lifecycle-stage';
import type { Transition } from './events';

/** The stages each transition's hook fires at, in the order the README lists them. */
export const STAGES_OF_TRANSITION: Record<Transition, readonly LifecycleStage[]> = {
  launch: [LifecycleStage.ENTER_WARM_POOL, LifecycleStage.LEAVE_WARM_POOL, LifecycleStage.LAUNCH_INTO_GROUP],
  terminate: [LifecycleStage.RETURN_TO_WARM_POOL, LifecycleStage.TERMINATE],
};

/**
 * The stages whose events run the commands, from the hook's settings (a
 * comma-separated list). Unset means every stage of the transition.
 * @throws when the list names a stage this transition does not have: the hook is misconfigured.
 */
export function readStages(value: string | undefined, transition: Transition): ReadonlySet<LifecycleStage> {
  const allowed = STAGES_OF_TRANSITION[transition];
  if (value === undefined) return new Set(allowed);
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const chosen = new Set<LifecycleStage>();
  for (const name of names) {
    const stage = allowed.find((s) => s === name);
    if (!stage) throw new Error(`stages names ${JSON.stringify(name)}; a ${transition} hook has the stages ${allowed.join(', ')}`);
    chosen.add(stage);
  }
  if (chosen.size === 0) throw new Error('stages is empty; it must name at least one stage');
  return chosen;
}

const EC2 = 'EC2';
const WARM_POOL = 'WarmPool';
const GROUP = 'AutoScalingGroup';

/**
 * The stage of a lifecycle event, from its detail's `Origin` and
 * `Destination`. Both are optional: an event without them is a launch into
 * the group or a termination. A combination Auto Scaling does not document
 * gives undefined.
 */
export function stageOfEvent(detail: unknown, transition: Transition): LifecycleStage | undefined {
  const fields = typeof detail === 'object' && detail !== null ? detail as Record<string, unknown> : {};
  const origin = typeof fields.Origin === 'string' ? fields.Origin : undefined;
  const destination = typeof fields.Destination === 'string' ? fields.Destination : undefined;
  if (transition === 'launch') {
    if (destination === WARM_POOL && (origin === EC2 || origin === undefined)) return LifecycleStage.ENTER_WARM_POOL;
    if (destination === GROUP && origin === WARM_POOL) return LifecycleStage.LEAVE_WARM_POOL;
    if ((destination === GROUP || destination === undefined) && (origin === EC2 || origin === undefined)) return LifecycleStage.LAUNCH_INTO_GROUP;
    return undefined;
  }
  if (destination === WARM_POOL && (origin === GROUP || origin === undefined)) return LifecycleStage.RETURN_TO_WARM_POOL;
  if (destination === EC2 || destination === undefined) return LifecycleStage.TERMINATE;
  return undefined;
}

/** Whether a lifecycle event runs the commands, and why, for its log line. */
export interface StageDecision {
  readonly run: boolean;
  /** The event's stage; undefined when its Origin and Destination are not a known combination. */
  readonly stage?: LifecycleStage;
  readonly reason: string;
}

/**
 * Decides whether a lifecycle event runs the commands. An event of a stage
 * not chosen does not: the handler completes its action at once with
 * `CONTINUE` (leaving it would hold the instance until the heartbeat timeout).
 * An event whose stage is unknown runs the commands, as a hook with no choice
 * of stages would, and says so.
 */
export function decideStage(detail: unknown, transition: Transition, chosen: ReadonlySet<LifecycleStage>): StageDecision {
  const stage = stageOfEvent(detail, transition);
  if (stage === undefined) {
    return { run: true, reason: 'Origin and Destination do not name a known stage; the commands run' };
  }
  if (chosen.has(stage)) return { run: true, stage, reason: `stage ${stage} runs the commands` };
  return { run: false, stage, reason: `stage ${stage} is not one the hook runs its commands at` };
}
