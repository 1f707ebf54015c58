// Resources per hook and synth time for 1, 10 and 60 hooks in one stack,
// beside aws-cdk-lib's LifecycleHook + FunctionHook doing the bare minimum
// (a function invoked through SNS, which must itself send and complete).
import { App, Duration, Stack, aws_autoscaling as autoscaling, aws_autoscaling_hooktargets as hooktargets, aws_lambda as lambda } from 'aws-cdk-lib';
import { LifecycleCommandHook } from '../src';

export interface SynthRow {
  readonly design: string;
  readonly hooks: number;
  readonly resources: number;
  readonly resourcesPerHook: number;
  readonly medianSynthMs: number;
}

type Design = (stack: Stack, group: autoscaling.IAutoScalingGroup, i: number) => void;

const designs: Record<string, Design> = {
  'LifecycleCommandHook': (stack, group, i) => {
    new LifecycleCommandHook(stack, `Hook${i}`, {
      autoScalingGroup: group,
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['systemctl stop application'],
      timeout: Duration.minutes(5),
    });
  },
  'LifecycleHook + FunctionHook': (stack, group, i) => {
    const fn = new lambda.Function(stack, `Fn${i}`, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    new autoscaling.LifecycleHook(stack, `Hook${i}`, {
      autoScalingGroup: group,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      notificationTarget: new hooktargets.FunctionHook(fn),
    });
  },
};

function synthOnce(design: Design, hooks: number): { resources: number; ms: number } {
  const start = process.hrtime.bigint();
  // CloudFormation takes at most 500 resources in a stack; the check is lifted
  // here so that both designs can be compared at 60 hooks, and the table says
  // which stacks would be refused.
  const app = new App({ context: { '@aws-cdk/core:stackResourceLimit': 0 } });
  const stack = new Stack(app, 'Bench', { env: { account: '123456789012', region: 'eu-west-1' } });
  for (let i = 0; i < hooks; i++) {
    const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, `Group${i}`, `fleet-${i}`);
    design(stack, group, i);
  }
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const template = assembly.getStackByName('Bench').template as { Resources: Record<string, unknown> };
  return { resources: Object.keys(template.Resources).length, ms };
}

export function measureSynth(counts = [1, 10, 60], repeats = 3): SynthRow[] {
  const rows: SynthRow[] = [];
  for (const [name, design] of Object.entries(designs)) {
    synthOnce(design, 1); // warm up module loading
    for (const hooks of counts) {
      const runs = Array.from({ length: repeats }, () => synthOnce(design, hooks));
      const times = runs.map((r) => r.ms).sort((a, b) => a - b);
      rows.push({
        design: name,
        hooks,
        resources: runs[0].resources,
        resourcesPerHook: runs[0].resources / hooks,
        medianSynthMs: times[Math.floor(times.length / 2)],
      });
    }
  }
  return rows;
}

if (require.main === module) {
  console.table(measureSynth());
}
