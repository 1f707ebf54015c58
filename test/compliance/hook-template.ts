// The synthesized templates of the compliance stacks, as the compliance tests
// read them: each stack's shared runtime (function, role and policies, table,
// queue, rules) and each hook (document, role, settings parameter, rule),
// with every Ref and Fn::GetAtt resolved to a made-up physical value, as if
// deployed to account 123456789012 in eu-west-1. Resources that are named in
// the template (documents, rules, parameters, state machines) keep their names;
// roles keep their IAM path in their ARN.
import { Template } from 'aws-cdk-lib/assertions';
import { Statement, resolveTemplateValue } from './iam-evaluator';
import { buildComplianceApp } from './stacks';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
/** The value given to the FleetName parameter of the imported-group stack. */
export const FLEET_NAME = 'web-fleet-blue';
/** The construct id of the stack's shared runtime. */
export const RUNTIME_ID = 'LifecycleCommandRuntime';

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
  readonly DependsOn?: string[];
}

/** What the resources under one construct path are, and how to find one of them. */
interface Scoped {
  /** The resources under the construct (its construct path), by logical id. */
  readonly own: Record<string, TemplateResource>;
  /** The logical id of the resource at `relativePath` under the construct, e.g. `HandlerPolicy/Resource/Resource`. */
  logicalId(relativePath: string): string;
}

export interface RuntimeTemplate extends Scoped {
  readonly stackName: string;
  /** All resources of the stack, by logical id. */
  readonly resources: Record<string, TemplateResource>;
  /** Made-up physical values of every `Ref` and `Fn::GetAtt` in the stack. */
  readonly physical: Record<string, string>;
  /** The function's environment as deployed (the `RUNTIME_*` variables). */
  readonly environment: Record<string, string>;
  /** The prefix of the names of the runtime's documents and rules (`RUNTIME_NAME_PREFIX`). */
  readonly namePrefix: string;
  /** The function's role: its logical id and ARN. */
  readonly roleId: string;
  readonly roleArn: string;
  readonly functionArn: string;
  /** The logical ids of the policies attached to the function's role. */
  readonly rolePolicies: string[];
  /** Every statement the function's own role allows (its policies, resolved). */
  readonly statements: Statement[];
  /** The hooks of the stack, by construct id. */
  readonly hooks: Record<string, HookTemplate>;
  /** The resolved statements of a policy resource. */
  policyStatements(logicalId: string): Statement[];
  resolve(value: unknown): any;
}

export interface HookTemplate extends Scoped {
  /** `<stack>/<hook id>` */
  readonly key: string;
  /** The runtime that serves the hook: the stack's. */
  readonly runtime: RuntimeTemplate;
  /** The runtime's `resources` and `physical`: all of the stack. */
  readonly resources: Record<string, TemplateResource>;
  readonly physical: Record<string, string>;
  /** The hook's settings, as its parameter holds them (resolved, parsed). */
  readonly settings: Record<string, any>;
  /**
   * The group's name: as the settings name it (an imported group), or, for a
   * group of the same app, the physical name of the group resource that
   * carries the hook's tag (the settings name the tag instead).
   */
  readonly groupName: string;
  /** A group of the same app: the tag the construct places on it and, from its launch, on its instances. */
  readonly groupTag?: { readonly key: string; readonly value: string };
  /** A group of the same app: the logical id of its resource. */
  readonly groupId?: string;
  readonly documentName: string;
  readonly hookName: string;
  /** The hook's role: its logical id and ARN (with its IAM path). */
  readonly roleId: string;
  readonly roleArn: string;
  /** The statements of the hook role's inline policies: what the function may do while it acts as this hook. */
  readonly roleStatements: Statement[];
  /** The resolved trust policy statements of the hook's role. */
  readonly trust: any[];
  /** The hook's lifecycle rule: logical id and ARN. */
  readonly ruleId: string;
  readonly ruleArn: string;
  /** What the hook's rule delivers to the function for a matched event: its InputTransformer applied to `event`. */
  delivered(event: unknown): any;
}

let cached: Record<string, RuntimeTemplate> | undefined;

/** Each compliance stack's runtime and hooks, by stack name. */
export function runtimeTemplates(): Record<string, RuntimeTemplate> {
  if (cached) return cached;
  const { hooks } = buildComplianceApp();
  const result: Record<string, RuntimeTemplate> = {};
  for (const key of Object.keys(hooks)) {
    const [stackName, hookId] = key.split('/');
    if (!result[stackName]) result[stackName] = runtimeOf(stackName, Template.fromStack(hooks[key].node.scope as any).toJSON());
    (result[stackName].hooks as Record<string, HookTemplate>)[hookId] = hookOf(result[stackName], key);
  }
  cached = result;
  return result;
}

/** Every hook of the compliance stacks, by `<stack>/<hook id>`. */
export function hookTemplates(): Record<string, HookTemplate> {
  return Object.fromEntries(Object.values(runtimeTemplates()).flatMap((r) => Object.values(r.hooks).map((h) => [h.key, h])));
}

function scoped(resources: Record<string, TemplateResource>, prefix: string): Scoped {
  const own = Object.fromEntries(Object.entries(resources).filter(([, r]) => String(r.Metadata?.['aws:cdk:path'] ?? '').startsWith(prefix)));
  return {
    own,
    logicalId: (relativePath: string) => {
      const found = Object.entries(own).find(([, r]) => r.Metadata?.['aws:cdk:path'] === prefix + relativePath);
      if (!found) throw new Error(`no resource at ${prefix}${relativePath}`);
      return found[0];
    },
  };
}

function runtimeOf(stackName: string, template: any): RuntimeTemplate {
  const resources: Record<string, TemplateResource> = template.Resources;
  const physical = physicalValues(stackName, template);
  const resolve = (value: unknown) => resolveTemplateValue(value, physical);
  const scope = scoped(resources, `${stackName}/${RUNTIME_ID}/`);
  const fn = scope.logicalId('Handler/Resource');
  const roleId = scope.logicalId('HandlerRole/Resource');
  const environment = resolve(resources[fn].Properties!.Environment.Variables);
  const policyStatements = (id: string): Statement[] => resolve(resources[id].Properties!.PolicyDocument.Statement);
  const rolePolicies = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]))
    .map(([id]) => id);
  return {
    ...scope,
    stackName,
    resources,
    physical,
    environment,
    namePrefix: environment.RUNTIME_NAME_PREFIX,
    roleId,
    roleArn: physical[`${roleId}.Arn`],
    functionArn: physical[`${fn}.Arn`],
    rolePolicies,
    statements: rolePolicies.flatMap(policyStatements),
    hooks: {},
    policyStatements,
    resolve,
  };
}

function hookOf(runtime: RuntimeTemplate, key: string): HookTemplate {
  const { resources, physical, resolve } = runtime;
  const scope = scoped(resources, `${key}/`);
  const parameter = resolve(resources[scope.logicalId('Settings')].Properties);
  const settings = JSON.parse(parameter.Value);
  const roleId = scope.logicalId('Role/Resource/Resource');
  const role = resources[roleId].Properties!;
  const ruleId = scope.logicalId('LifecycleActionRule/Resource');
  const targets = resources[ruleId].Properties!.Targets;
  if (targets.length !== 1) throw new Error(`${key}: the lifecycle rule has ${targets.length} targets`);
  const transformer = resolve(targets[0].InputTransformer);
  const paths: Record<string, string> = transformer.InputPathsMap;
  for (const [name, jsonPath] of Object.entries(paths)) {
    if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(jsonPath)) throw new Error(`${key}: the rule's input path ${name} is ${jsonPath}, which this reader does not model`);
  }
  const group = groupOf(key, resources, settings);
  return {
    ...scope,
    key,
    runtime,
    resources,
    physical,
    settings,
    groupName: group ? physical[group.id] : settings.groupName,
    ...(group ? { groupTag: settings.groupTag, groupId: group.id } : {}),
    documentName: settings.documentName,
    hookName: settings.hookName,
    roleId,
    roleArn: physical[`${roleId}.Arn`],
    roleStatements: resolve((role.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement)),
    trust: resolve(role.AssumeRolePolicyDocument.Statement),
    ruleId,
    ruleArn: physical[`${ruleId}.Arn`],
    // EventBridge puts each input path's value from the matched event, as JSON, where the template names it;
    // a path the event lacks is modelled as null.
    delivered: (event: unknown) => JSON.parse(String(transformer.InputTemplate).replace(/<([^<>"]+)>/g, (placeholder, name: string) =>
      (name in paths ? JSON.stringify(valueAt(event, paths[name])) ?? 'null' : placeholder))),
  };
}

/** The value at a JSON path of the form `$.a.b` (undefined where the event has none). */
function valueAt(event: unknown, jsonPath: string): unknown {
  return jsonPath.split('.').slice(1).reduce<any>((value, field) => (value !== null && typeof value === 'object' ? value[field] : undefined), event);
}

/**
 * For a hook whose settings name the group's tag rather than its name (a group
 * of the same app): the one group resource of the stack that carries the tag
 * and gives it to the instances it launches. Undefined when the settings name the group.
 */
function groupOf(key: string, resources: Record<string, TemplateResource>, settings: Record<string, any>): { id: string } | undefined {
  if (settings.groupName !== undefined) {
    if (settings.groupTag !== undefined) throw new Error(`${key}: the settings name both the group and its tag`);
    return undefined;
  }
  const tag = settings.groupTag;
  if (!tag?.key || !tag?.value) throw new Error(`${key}: the settings name neither the group nor its tag`);
  const carrying = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup'
    && (r.Properties?.Tags ?? []).some((t: any) => t.Key === tag.key && t.Value === tag.value && String(t.PropagateAtLaunch) === 'true'));
  if (carrying.length !== 1) throw new Error(`${key}: ${carrying.length} groups carry the hook's tag ${tag.key} (to their instances)`);
  return { id: carrying[0][0] };
}

const ARN_FORMS: Record<string, (name: string, properties: Record<string, any>) => string> = {
  'AWS::Logs::LogGroup': (name) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`,
  'AWS::SQS::Queue': (name) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  'AWS::Lambda::Function': (name) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
  'AWS::Events::Rule': (name) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`,
  'AWS::IAM::Role': (name, p) => `arn:aws:iam::${ACCOUNT}:role${typeof p.Path === 'string' ? p.Path : '/'}${name}`,
  'AWS::DynamoDB::Table': (name) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
  'AWS::StepFunctions::StateMachine': (name) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`,
};

/** The property that names a resource in the template, when it is set: its physical name then, not a made-up one. */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::SSM::Document': 'Name',
  'AWS::SSM::Parameter': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::AutoScaling::AutoScalingGroup': 'AutoScalingGroupName',
};

function physicalValues(stackName: string, template: any): Record<string, string> {
  const physical: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
    'FleetName': FLEET_NAME,
  };
  for (const [id, resource] of Object.entries<TemplateResource>(template.Resources)) {
    const properties = resource.Properties ?? {};
    const given = properties[NAME_PROPERTIES[resource.Type]];
    const name = typeof given === 'string' ? given : `${stackName}-${id}-0A1B2C3D`;
    physical[id] = resource.Type === 'AWS::Logs::LogGroup' ? `/${stackName}/${id}` : name;
    const arn = ARN_FORMS[resource.Type];
    if (arn) physical[`${id}.Arn`] = arn(physical[id], properties);
    // A state machine's Ref is its ARN.
    if (resource.Type === 'AWS::StepFunctions::StateMachine') physical[id] = physical[`${id}.Arn`];
  }
  return physical;
}
