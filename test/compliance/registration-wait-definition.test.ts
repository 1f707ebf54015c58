// The registration wait's state machine, as synthesized and with its
// intrinsics resolved, validated as Amazon States Language by asl-validator
// (JSON schemas of the States Language, and the JSONPath syntax of its paths).
import aslValidator from 'asl-validator';
import { hookTemplates } from './hook-template';

const templates = Object.values(hookTemplates());
/** Every state machine of the compliance stacks, by `<stack>/<logical id>`, its definition resolved. */
const definitions: Record<string, any> = {};
for (const t of templates) {
  for (const [id, r] of Object.entries(t.resources)) {
    if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const definition = r.Properties!.DefinitionString ?? r.Properties!.Definition;
    definitions[`${t.key.split('/')[0]}/${id}`] = typeof definition === 'object' && !('Fn::Join' in definition) && !('Fn::Sub' in definition)
      ? t.resolve(definition)
      : JSON.parse(t.resolve(definition));
  }
}

test('each launch hook of the compliance stacks has a state machine to check', () => {
  const launchHooks = templates.filter((t) => t.key.endsWith('/Bootstrap'));
  expect(Object.keys(definitions)).toHaveLength(launchHooks.length);
});

test.each(Object.keys(definitions))('%s is valid Amazon States Language', (id) => {
  const { isValid, errorsText } = aslValidator(definitions[id]);
  expect(isValid ? '' : errorsText('\n')).toBe('');
});

test('the validator refuses a definition whose StartAt names no state', () => {
  const [first] = Object.values(definitions);
  expect(aslValidator({ ...first, StartAt: 'NoSuchState' }).isValid).toBe(false);
});
