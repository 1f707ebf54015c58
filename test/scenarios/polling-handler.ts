/**
 * A handler that waits for its command inside the invocation, polling, as the
 * alternative design would. It calls every operation the stand-in serves
 * through the real SDK clients and returns what it read, so a scenario can
 * check that each answer parses as the SDK expects.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { Handler, HandlerFactory } from '../standin';

const POLL_MS = 5_000;
const FINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

export const pollingHandler: HandlerFactory = (): Handler => {
  const autoScaling = new AutoScalingClient({});
  const ssm = new SSMClient({});
  return async (delivered) => {
    // The hook's rule delivers the lifecycle event wrapped with the hook's settings.
    const { hook, event } = delivered as { hook?: { documentName?: string }; event?: unknown };
    const e = event as { 'detail-type'?: string; 'detail': Record<string, string> } | undefined;
    if (!e || !/Lifecycle Action$/.test(e['detail-type'] ?? '')) return 'ignored';
    const instanceId = e.detail.EC2InstanceId;
    const seen: Record<string, unknown> = {};

    const described = await autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    seen.lifecycleState = described.AutoScalingInstances?.[0]?.LifecycleState;
    const info = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
    seen.pingStatus = info.InstanceInformationList?.[0]?.PingStatus;
    seen.lastPingIsDate = info.InstanceInformationList?.[0]?.LastPingDateTime instanceof Date;

    const sent = await ssm.send(new SendCommandCommand({
      DocumentName: hook?.documentName,
      InstanceIds: [instanceId],
      Comment: `lifecycle-action ${e.detail.LifecycleActionToken}`,
      TimeoutSeconds: 60,
    }));
    const commandId = sent.Command!.CommandId!;
    seen.requestedIsDate = sent.Command?.RequestedDateTime instanceof Date;
    seen.sentStatus = sent.Command?.Status;
    // Run Command is eventually consistent: the invocation may not exist yet.
    seen.rightAfterSend = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
      .then((r) => r.Status, (error: Error) => error.name);

    let status: string | undefined;
    let heartbeats = 0;
    while (!FINAL.includes(status ?? '')) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      await autoScaling.send(new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: e.detail.AutoScalingGroupName,
        LifecycleHookName: e.detail.LifecycleHookName,
        LifecycleActionToken: e.detail.LifecycleActionToken,
      }));
      heartbeats++;
      status = (await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))).Status;
    }
    seen.finalStatus = status;
    seen.heartbeats = heartbeats;
    const listed = await ssm.send(new ListCommandsCommand({ InstanceId: instanceId }));
    seen.listedComment = listed.Commands?.[0]?.Comment === `lifecycle-action ${e.detail.LifecycleActionToken}`;
    const invocations = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
    seen.pluginStatus = invocations.CommandInvocations?.[0]?.CommandPlugins?.[0]?.Status;

    await autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: e.detail.AutoScalingGroupName,
      LifecycleHookName: e.detail.LifecycleHookName,
      InstanceId: instanceId,
      LifecycleActionResult: status === 'Success' ? 'CONTINUE' : 'ABANDON',
    }));
    // The action is gone now: Auto Scaling's refusal must parse as the SDK's ValidationError.
    seen.secondCompletion = await autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: e.detail.AutoScalingGroupName,
      LifecycleHookName: e.detail.LifecycleHookName,
      InstanceId: instanceId,
      LifecycleActionResult: 'CONTINUE',
    })).then(() => 'accepted', (error: Error) => `${error.name}: ${error.message}`);
    return seen;
  };
};
