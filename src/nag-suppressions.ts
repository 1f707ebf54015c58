import * as cdk from 'aws-cdk-lib';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A cdk-nag finding that a resource of this library raises by design, and why
 * that is acceptable.
 */
export interface NagSuppression {
  /** The rule, e.g. `AwsSolutions-IAM5`. */
  readonly rule: string;
  /**
   * The finding of a granular rule (IAM4, IAM5), e.g. `Resource::*`. Without
   * it the suppression covers every finding of the rule on the resource.
   */
  readonly finding?: string;
  /** Why the finding is acceptable, for the reviewer who reads the template. */
  readonly reason: string;
}

/** The CloudFormation metadata key cdk-nag 2 reads suppressions from. */
export const NAG_METADATA_KEY = 'cdk_nag';

/**
 * The construct metadata key cdk-nag 3 reads acknowledgements from:
 * `Validations.ACKNOWLEDGED_RULES_METADATA_KEY`, which only the aws-cdk-lib
 * versions that cdk-nag 3 works with have. Looked up rather than imported, so
 * that the library loads on older aws-cdk-lib versions, where it is undefined
 * and only the cdk-nag 2 metadata is written.
 */
export const ACKNOWLEDGED_RULES_METADATA_KEY: string | undefined =
  (cdk as unknown as { Validations?: { ACKNOWLEDGED_RULES_METADATA_KEY?: string } }).Validations?.ACKNOWLEDGED_RULES_METADATA_KEY;

/**
 * Records suppressions of cdk-nag findings on a resource, in the two places
 * cdk-nag reads them, without depending on cdk-nag:
 *
 * - construct metadata under `Validations.ACKNOWLEDGED_RULES_METADATA_KEY`,
 *   keyed `Rule[finding]`, as cdk-nag 3 checks it, when aws-cdk-lib has that
 *   key. Written directly because `Validations.acknowledge()` refuses ids that
 *   contain `::`, which every granular finding on an ARN does (`<AWS::Partition>`).
 * - the resource's CloudFormation `Metadata.cdk_nag.rules_to_suppress`, as
 *   cdk-nag 2 reads it (`applies_to` scopes a granular rule to one finding),
 *   merged with whatever is there already. This also leaves each suppression
 *   and its reason in the synthesized template.
 */
export function suppressNagFindings(resource: CfnResource, suppressions: NagSuppression[]): void {
  if (suppressions.length === 0) return;
  if (ACKNOWLEDGED_RULES_METADATA_KEY !== undefined) {
    const acknowledged: Record<string, string> = {};
    for (const s of suppressions) {
      acknowledged[s.finding === undefined ? s.rule : `${s.rule}[${s.finding}]`] = s.reason;
    }
    resource.node.addMetadata(ACKNOWLEDGED_RULES_METADATA_KEY, acknowledged);
  }

  const rules: unknown[] = [...(resource.getMetadata(NAG_METADATA_KEY)?.rules_to_suppress ?? [])];
  const seen = new Set(rules.map((r) => JSON.stringify(r)));
  for (const s of suppressions) {
    const rule = { id: s.rule, reason: s.reason, ...(s.finding === undefined ? {} : { applies_to: [s.finding] }) };
    // Two hooks on one group suppress the same finding on its instance role once.
    if (!seen.has(JSON.stringify(rule))) {
      seen.add(JSON.stringify(rule));
      rules.push(rule);
    }
  }
  resource.addMetadata(NAG_METADATA_KEY, { rules_to_suppress: rules });
}

/** The CloudFormation resource behind a construct, when it has exactly one. */
export function cfnResourceOf(construct: IConstruct): CfnResource | undefined {
  if (CfnResource.isCfnResource(construct)) return construct;
  const child = construct.node.defaultChild;
  return child !== undefined && CfnResource.isCfnResource(child) ? child : undefined;
}

/**
 * How cdk-nag spells a resource or policy ARN in a granular finding: the value
 * resolved in its stack, with `Ref` written `<Name>`, `Fn::GetAtt` written
 * `<Name.Attribute>`, `Fn::Join` joined and `${...}` of `Fn::Sub` written `<...>`.
 * Resolved when the construct is built, so a logical id overridden later no
 * longer matches and the finding shows up again for its owner to judge.
 */
export function nagFindingValue(scope: IConstruct, value: string): string {
  return flatten(Stack.of(scope).resolve(value));
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, any>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (o['Fn::Sub']) return flatten(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (o['Fn::ImportValue']) return flatten(o['Fn::ImportValue']);
    if (o.Ref) return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}

/** Every policy this library creates belongs to a single role and lives and dies with it. */
export const INLINE_POLICY_SUPPRESSION: NagSuppression = {
  rule: 'NIST.800.53.R5-IAMNoInlinePolicy',
  reason: 'A policy that this library attaches to a single role, created and deleted with it; a managed policy would be a separate object that nothing else should attach.',
};
