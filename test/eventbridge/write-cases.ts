// Writes the cases that the Java test (EventPatternTest) checks with AWS's
// event-ruler: the library's rules against the fixtures with the matches each
// must make (rules.ts), the stand-in's operator pairs (operator-pairs.ts), and
// the stand-in matcher's answer for every pair, so that the Java test can hold
// it to event-ruler's.
//   ts-node --project tsconfig.dev.json test/eventbridge/write-cases.ts <file>
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { OPERATOR_EVENTS, OPERATOR_PATTERNS } from './operator-pairs';
import { ruleCases } from './rules';
import { matches } from '../standin/eventbridge';

/** The stand-in's answer: true, false, or "refused" when it throws on the pattern. */
function standIn(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean | 'refused' {
  try {
    return matches(pattern, event);
  } catch {
    return 'refused';
  }
}

const file = path.resolve(process.argv[2] ?? path.join(__dirname, 'target', 'cases.json'));
const cases = ruleCases();
const operators = Object.entries(OPERATOR_PATTERNS).map(([id, pattern]) => ({ id, pattern }));
const operatorEvents = Object.entries(OPERATOR_EVENTS).map(([id, event]) => ({ id, event }));

// By pattern id: the events the stand-in matches, and those on which it refuses the pattern.
const standInAnswers: Record<string, { matched: string[]; refused: string[] }> = {};
const answer = (patternId: string, pattern: Record<string, unknown>, eventId: string, event: Record<string, unknown>) => {
  const answers = standInAnswers[patternId] ??= { matched: [], refused: [] };
  const result = standIn(pattern, event);
  if (result === 'refused') answers.refused.push(eventId);
  else if (result) answers.matched.push(eventId);
};
for (const rule of cases.rules) for (const e of cases.events) answer(rule.id, rule.pattern, e.id, e.event);
for (const p of operators) for (const e of operatorEvents) answer(`operator: ${p.id}`, p.pattern, `operator: ${e.id}`, e.event);

mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({
  rules: cases.rules.map((r) => ({ id: r.id, pattern: r.pattern })),
  events: cases.events.map((e) => ({ id: e.id, event: e.event })),
  expected: cases.expected,
  operatorPatterns: operators.map((p) => ({ id: `operator: ${p.id}`, pattern: p.pattern })),
  operatorEvents: operatorEvents.map((e) => ({ id: `operator: ${e.id}`, event: e.event })),
  standIn: standInAnswers,
}));
console.log(`test/eventbridge: ${cases.rules.length} rules of ${cases.hooks.length} hooks x ${cases.events.length} events, `
  + `${operators.length} x ${operatorEvents.length} operator pairs -> ${path.relative(process.cwd(), file)}`);
