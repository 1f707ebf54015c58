import { LifecycleStage } from '../src';
import { decideStage, readStages, stageOfEvent, STAGES_OF_TRANSITION } from '../src/handler/stages';

describe('the stage of a lifecycle event', () => {
  test.each([
    ['launch', { Origin: 'EC2', Destination: 'WarmPool' }, LifecycleStage.ENTER_WARM_POOL],
    ['launch', { Origin: 'WarmPool', Destination: 'AutoScalingGroup' }, LifecycleStage.LEAVE_WARM_POOL],
    ['launch', { Origin: 'EC2', Destination: 'AutoScalingGroup' }, LifecycleStage.LAUNCH_INTO_GROUP],
    ['launch', {}, LifecycleStage.LAUNCH_INTO_GROUP],
    ['terminate', { Origin: 'AutoScalingGroup', Destination: 'WarmPool' }, LifecycleStage.RETURN_TO_WARM_POOL],
    ['terminate', { Origin: 'AutoScalingGroup', Destination: 'EC2' }, LifecycleStage.TERMINATE],
    ['terminate', { Origin: 'WarmPool', Destination: 'EC2' }, LifecycleStage.TERMINATE],
    ['terminate', {}, LifecycleStage.TERMINATE],
  ] as const)('%s %j is %s', (transition, detail, stage) => {
    expect(stageOfEvent(detail, transition)).toBe(stage);
  });

  test.each([
    ['launch', { Origin: 'WarmPool', Destination: 'WarmPool' }],
    ['launch', { Origin: 'AutoScalingGroup', Destination: 'EC2' }],
    ['launch', { Origin: 'WarmPool' }],
    ['terminate', { Origin: 'EC2', Destination: 'AutoScalingGroup' }],
  ] as const)('%s %j is no known stage', (transition, detail) => {
    expect(stageOfEvent(detail, transition)).toBeUndefined();
  });

  test('fields of the wrong type count as absent', () => {
    expect(stageOfEvent({ Origin: 7, Destination: ['WarmPool'] }, 'launch')).toBe(LifecycleStage.LAUNCH_INTO_GROUP);
    expect(stageOfEvent(undefined, 'terminate')).toBe(LifecycleStage.TERMINATE);
  });
});

describe('the stages chosen in the environment', () => {
  test('unset means every stage of the transition', () => {
    expect([...readStages(undefined, 'launch')]).toEqual(STAGES_OF_TRANSITION.launch);
    expect([...readStages(undefined, 'terminate')]).toEqual(STAGES_OF_TRANSITION.terminate);
  });

  test('a list of stages', () => {
    expect([...readStages('enter-warm-pool, launch-into-group', 'launch')]).toEqual([LifecycleStage.ENTER_WARM_POOL, LifecycleStage.LAUNCH_INTO_GROUP]);
  });

  test('a stage of the other transition, or none, is a misconfigured function', () => {
    expect(() => readStages('terminate', 'launch')).toThrow('stages names "terminate"; a launch hook has the stages enter-warm-pool, leave-warm-pool, launch-into-group');
    expect(() => readStages(' , ', 'terminate')).toThrow('stages is empty');
  });

  test('every stage belongs to exactly one transition', () => {
    const all = [...STAGES_OF_TRANSITION.launch, ...STAGES_OF_TRANSITION.terminate];
    expect(all.sort()).toEqual(Object.values(LifecycleStage).sort());
  });
});

describe('whether an event runs the commands', () => {
  const onlyEntering = new Set([LifecycleStage.ENTER_WARM_POOL]);

  test('a chosen stage runs them', () => {
    expect(decideStage({ Origin: 'EC2', Destination: 'WarmPool' }, 'launch', onlyEntering))
      .toEqual({ run: true, stage: LifecycleStage.ENTER_WARM_POOL, reason: 'stage enter-warm-pool runs the commands' });
  });

  test('a stage not chosen does not, and names the stage', () => {
    expect(decideStage({ Origin: 'WarmPool', Destination: 'AutoScalingGroup' }, 'launch', onlyEntering))
      .toEqual({ run: false, stage: LifecycleStage.LEAVE_WARM_POOL, reason: 'stage leave-warm-pool is not one the hook runs its commands at' });
    expect(decideStage({}, 'launch', onlyEntering).run).toBe(false);
  });

  test('an unknown combination runs them, as a hook with every stage would', () => {
    const decision = decideStage({ Origin: 'WarmPool', Destination: 'WarmPool' }, 'launch', onlyEntering);
    expect(decision.run).toBe(true);
    expect(decision.stage).toBeUndefined();
  });
});
