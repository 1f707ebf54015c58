import { aws_autoscaling as autoscaling } from 'aws-cdk-lib';
import { STAGES_OF_TRANSITION } from './handler/stages';
import { LifecycleStage } from './lifecycle-stage';

/**
 * The `stages` prop, checked against the hook's transition, as the value of
 * the handler's `HOOK_STAGES` variable: the chosen stages, comma-separated, in
 * the order of `STAGES_OF_TRANSITION`.
 * @throws at synth time when the list is empty or names a stage the transition does not have.
 */
export function stagesEnvironmentValue(stages: LifecycleStage[] | undefined, transition: autoscaling.LifecycleTransition): string {
  const isLaunch = transition === autoscaling.LifecycleTransition.INSTANCE_LAUNCHING;
  const allowed = STAGES_OF_TRANSITION[isLaunch ? 'launch' : 'terminate'];
  if (stages === undefined) return allowed.join(',');
  const allowedNames = allowed.map((stage) => `LifecycleStage.${stageKey(stage)}`).join(', ');
  if (stages.length === 0) {
    throw new Error(`LifecycleCommandHook: stages is empty; omit it to run the commands at every stage, or name some of ${allowedNames}.`);
  }
  stages.forEach((stage, index) => {
    if (!allowed.includes(stage)) {
      const known = stageKey(stage);
      throw new Error(`LifecycleCommandHook: stages[${index}] is ${known ? `LifecycleStage.${known}` : JSON.stringify(stage)}, `
        + `which is not a stage of a ${isLaunch ? 'launch' : 'terminate'} hook; a ${isLaunch ? 'launch' : 'terminate'} hook has ${allowedNames}.`);
    }
  });
  return allowed.filter((stage) => stages.includes(stage)).join(',');
}

function stageKey(stage: LifecycleStage): string | undefined {
  return (Object.keys(LifecycleStage) as Array<keyof typeof LifecycleStage>).find((key) => LifecycleStage[key] === stage);
}
