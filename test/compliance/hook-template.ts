// The synthesized template of each hook of the compliance stacks, with every
// Ref and Fn::GetAtt resolved to a made-up physical value, as if deployed to
// account 123456789012 in eu-west-1.
import { Template } from 'aws-cdk-lib/assertions';
import { Statement, resolveTemplateValue } from './iam-evaluator';
import { buildComplianceApp } from './stacks';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
/** The value given to the FleetName parameter of the imported-group stack. */
export const FLEET_NAME = 'web-fleet-blue';

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
  readonly DependsOn?: string[];
}

export interface HookTemplate {
  /** `<stack>/<hook id>` */
  readonly key: string;
  /** All resources of the stack, by logical id. */
  readonly resources: Record<string, TemplateResource>;
  /** Made-up physical values of every `Ref` and `Fn::GetAtt` in the stack. */
  readonly physical: Record<string, string>;
  /** The group, document and handler environment as deployed. */
  readonly groupName: string;
  readonly documentName: string;
  readonly environment: Record<string, string>;
  /** The hook's resources (construct path under the hook) by logical id. */
  readonly own: Record<string, TemplateResource>;
  /** The logical id of the hook's resource at `relativePath`, e.g. `HandlerPolicy/Resource`. */
  logicalId(relativePath: string): string;
  /** The resolved statements of a policy resource. */
  statements(logicalId: string): Statement[];
  resolve(value: unknown): any;
}

export function hookTemplates(): Record<string, HookTemplate> {
  const { hooks } = buildComplianceApp();
  const byStack = new Map<string, { resources: Record<string, TemplateResource>; physical: Record<string, string> }>();
  const result: Record<string, HookTemplate> = {};
  for (const [key, hook] of Object.entries(hooks)) {
    const [stackName, hookId] = key.split('/');
    if (!byStack.has(stackName)) {
      const template = Template.fromStack(hook.node.scope as any).toJSON();
      byStack.set(stackName, { resources: template.Resources, physical: physicalValues(stackName, template) });
    }
    const { resources, physical } = byStack.get(stackName)!;
    const prefix = `${stackName}/${hookId}/`;
    const own = Object.fromEntries(Object.entries(resources).filter(([, r]) => String(r.Metadata?.['aws:cdk:path'] ?? '').startsWith(prefix)));
    const logicalId = (relativePath: string) => {
      const found = Object.entries(own).find(([, r]) => r.Metadata?.['aws:cdk:path'] === prefix + relativePath);
      if (!found) throw new Error(`${key} has no resource at ${relativePath}`);
      return found[0];
    };
    const resolve = (value: unknown) => resolveTemplateValue(value, physical);
    const environment = resolve(resources[logicalId('Handler/Resource')].Properties!.Environment.Variables);
    result[key] = {
      key,
      resources,
      physical,
      own,
      groupName: environment.HOOK_GROUP_NAME,
      documentName: environment.HOOK_DOCUMENT_NAME,
      environment,
      logicalId,
      statements: (id: string) => resolve(resources[id].Properties!.PolicyDocument.Statement),
      resolve,
    };
  }
  return result;
}

const ARN_FORMS: Record<string, (name: string) => string> = {
  'AWS::Logs::LogGroup': (name) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`,
  'AWS::SQS::Queue': (name) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  'AWS::Lambda::Function': (name) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
  'AWS::Events::Rule': (name) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`,
  'AWS::IAM::Role': (name) => `arn:aws:iam::${ACCOUNT}:role/${name}`,
  'AWS::DynamoDB::Table': (name) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
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
    const name = `${stackName}-${id}-0A1B2C3D`;
    physical[id] = resource.Type === 'AWS::Logs::LogGroup' ? `/${stackName}/${id}` : name;
    const arn = ARN_FORMS[resource.Type];
    if (arn) physical[`${id}.Arn`] = arn(physical[id]);
  }
  return physical;
}
