// Runs cdk-nag packs over a construct tree and lists the findings, with or
// without the acknowledgments (suppressions) recorded on the resources.
import { CfnResource, Validations } from 'aws-cdk-lib';
import { NagPack } from 'cdk-nag';
import { IConstruct } from 'constructs';

export interface Finding {
  /** Construct path of the resource, without the trailing `/Resource`. */
  readonly path: string;
  /** Rule id, with the finding for granular rules: `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  readonly severity: string;
}

/**
 * The findings of a pack on every resource under `scope`. Synthesize the app
 * first: aspects (IMDSv2 on launch templates, for one) run only then.
 *
 * With `ignoreAcknowledgments`, what the pack would report if nothing were
 * suppressed: cdk-nag 3 asks its private `isAcknowledged` about each finding,
 * and this answers no.
 */
export function nagFindings(pack: NagPack, scope: IConstruct, options: { ignoreAcknowledgments?: boolean } = {}): Finding[] {
  if (options.ignoreAcknowledgments) {
    const p = pack as unknown as { isAcknowledged: unknown };
    if (typeof p.isAcknowledged !== 'function') throw new Error('cdk-nag no longer checks acknowledgments through isAcknowledged');
    p.isAcknowledged = () => false;
  }
  const report = pack.validateScope(scope);
  return report.violations
    .flatMap((v) => v.violatingResources.map((r) => ({ path: shortPath(r.constructPath!), rule: v.ruleName, severity: v.severity ?? '' })))
    .sort(byPathAndRule);
}

/** The suppressions recorded on one resource itself (not inherited from a parent), rule id to reason. */
export function acknowledgedOn(resource: CfnResource): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of resource.node.metadata) {
    if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
    for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
      result[id.replace(/^annotation::/i, '')] = reason;
    }
  }
  return result;
}

export function shortPath(path: string): string {
  return path.replace(/\/Resource$/, '');
}

export function byPathAndRule(a: { path: string; rule: string }, b: { path: string; rule: string }): number {
  return a.path.localeCompare(b.path) || a.rule.localeCompare(b.rule);
}
