/**
 * The runtime's reconciliation pass: one scheduled invocation serves every
 * hook whose parameter is under the runtime's path (reconcile.ts does one
 * hook). Hooks are passed a few at a time, each on its own: one hook's
 * trouble (its group gone, its role not yet assumable, its calls throttled)
 * is logged and left to the next pass, and costs the others nothing.
 */
import { errorName } from './aws-errors';
import { allHookSettings, groupsWithTags, hookConfig, RuntimeSettings } from './hook-config';
import { describeGroups, INSTANCE_RESERVE_MS, reconcile, repeatWhileTimeLasts } from './reconcile';

/** Hooks passed at once; each passes up to PASS_CONCURRENCY instances at once. */
export const HOOK_CONCURRENCY = 4;

export async function passAllHooks(runtime: RuntimeSettings, remainingMs: () => number, requestId?: string): Promise<number> {
  // Without these first calls the pass does nothing: throttled past the SDK's attempts, they are repeated while there is time.
  const listing = <T>(call: () => Promise<T>) => repeatWhileTimeLasts(remainingMs, INSTANCE_RESERVE_MS, call);
  const all = await listing(() => allHookSettings(runtime));
  if (all.length === 0) return 0;
  // Groups of the same app are known by the tag the construct placed on them: one call finds them all.
  const tagged = await listing(() => groupsWithTags(all.flatMap((h) => (h.groupName === undefined && h.groupTag ? [h.groupTag] : []))));
  // A tagged hook serves every group that carries its tag: two while CloudFormation replaces the group.
  const hooks = all.flatMap((h) => {
    if (h.groupName !== undefined) return [{ ...h, groupName: h.groupName }];
    const names = tagged.get(`${h.groupTag!.key}=${h.groupTag!.value}`) ?? [];
    return names.length > 0 ? names.map((groupName) => ({ ...h, groupName })) : [{ ...h, groupName: '' }];
  });
  // One DescribeAutoScalingGroups for up to 50 groups: an idle pass costs the same few calls whatever the number of hooks.
  const groups = await listing(() => describeGroups(hooks.flatMap((h) => (h.groupName ? [h.groupName] : []))));
  let next = 0;
  const worker = async () => {
    while (next < hooks.length) {
      const settings = hooks[next++];
      if (!settings.groupName) {
        console.error({ message: 'no Auto Scaling group carries the hook\'s tag; nothing to reconcile', hookName: settings.hookName, tag: settings.groupTag?.key });
        continue;
      }
      try {
        await reconcile(hookConfig(settings, runtime), remainingMs, requestId, groups.get(settings.groupName) ?? null);
      } catch (error) {
        console.warn({
          message: 'reconciliation of a hook failed; the next pass tries again',
          groupName: settings.groupName,
          hookName: settings.hookName,
          error: errorName(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HOOK_CONCURRENCY, hooks.length) }, worker));
  return hooks.length;
}
