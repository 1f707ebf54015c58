import { Agents } from './agent';
import { VirtualClock } from './clock';
import { AWS_RUN_REMOTE_SCRIPT, DocumentContent, replaceParameters, runDocumentSteps } from './documents';
import type { Instance } from './model';
import type { ProgramBehaviour } from './options';
import { Rng } from './rng';

function instance(): Instance {
  return {
    index: 0,
    group: 'web-fleet',
    id: 'i-0aaaaaaaaaaaaaaa0',
    state: 'InService',
    ec2Running: true,
    exists: true,
    agent: 'Online',
    actions: [],
    completions: [],
    commandIds: [],
    agentOptions: {},
    commandOptions: {},
  };
}

function world(programs: Record<string, ProgramBehaviour> = {}, s3Objects: Record<string, string> = {}, documents = {}) {
  const i = instance();
  const agents = new Agents(new VirtualClock(), new Rng(1), 'eu-west-1', programs, [i], { online: () => undefined });
  return { i, agents, w: { agents, s3Objects, documents: { 'AWS-RunRemoteScript': AWS_RUN_REMOTE_SCRIPT, ...documents } } };
}

describe('the agent\'s parameter substitution (ReplaceParameters)', () => {
  test('a value that is exactly {{ name }} becomes the value itself, a list staying a list', () => {
    expect(replaceParameters({ runCommand: '{{ lines }}' }, { lines: ['a', 'b'] })).toEqual({ runCommand: ['a', 'b'] });
  });
  test('inside other text, a list becomes its JSON text, and an unknown name stays as written', () => {
    expect(replaceParameters('for s in {{ lines }}; do {{ other }}; done', { lines: ['a', 'b'] })).toBe('for s in ["a","b"]; do {{ other }}; done');
  });
});

describe('documents of several steps', () => {
  const HOOK: DocumentContent = {
    parameters: { executionTimeout: { type: 'String', default: '300' } },
    mainSteps: [{
      action: 'aws:runDocument',
      name: 'runDocument',
      inputs: {
        documentType: 'SSMDocument',
        documentPath: 'AWS-RunRemoteScript',
        documentParameters: {
          sourceType: 'S3', sourceInfo: '{"path": "https://s3.eu-west-1.amazonaws.com/b/k/drain.sh"}', commandLine: 'drain.sh', executionTimeout: '{{ executionTimeout }}',
        },
      },
    }],
  };

  test('AWS-RunRemoteScript downloads the object and runs commandLine in the downloads directory', () => {
    const { i, agents, w } = world({ 'flush-queue': { exitCode: 4 } }, { 'b/k/drain.sh': '#!/bin/sh\nflush-queue\n' });
    try {
      const r = runDocumentSteps(w, i, 1, HOOK, {});
      expect(r.ran).toEqual(['flush-queue']);
      expect(r.status).toBe('Failed');
      expect(r.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['downloadContent:Success', 'runShellScript:Failed', 'runDocument:Failed']);
    } finally {
      agents.dispose();
    }
  });

  test('a missing object fails the download; without onFailure the next step still runs', () => {
    const { i, agents, w } = world();
    try {
      const r = runDocumentSteps(w, i, 1, HOOK, {});
      expect(r.status).toBe('Failed');
      expect(r.stderr).toContain('AccessDenied');
      expect(r.steps.map((s) => s.name)).toEqual(['downloadContent', 'runShellScript', 'runDocument']);
    } finally {
      agents.dispose();
    }
  });

  test('a failed step with onFailure: exit skips the rest', () => {
    const { i, agents, w } = world();
    try {
      const r = runDocumentSteps(w, i, 1, {
        mainSteps: [
          { action: 'aws:downloadContent', name: 'get', inputs: { sourceType: 'S3', sourceInfo: { path: 'https://s3.eu-west-1.amazonaws.com/b/none.sh' }, destinationPath: 'none.sh', onFailure: 'exit' } },
          { action: 'aws:runShellScript', name: 'run', inputs: { runCommand: ['lifecycle-step'] } },
        ],
      }, {});
      expect(r.steps).toEqual([{ name: 'get', status: 'Failed' }, { name: 'run', status: 'Skipped' }]);
      expect(r.ran).toEqual([]);
      expect(r.status).toBe('Failed');
    } finally {
      agents.dispose();
    }
  });

  test('a document or version the account does not have fails the step', () => {
    const { i, agents, w } = world({}, {}, { 'team-drain': { versions: [{ mainSteps: [] }] } });
    try {
      const run = (documentPath: string) => runDocumentSteps(w, i, 1, {
        mainSteps: [{ action: 'aws:runDocument', name: 'runDocument', inputs: { documentType: 'SSMDocument', documentPath } }],
      }, {});
      expect(run('team-drain').status).toBe('Success');
      expect(run('team-drain:2').stderr).toContain('InvalidDocumentVersion');
      expect(run('other-drain').stderr).toContain('InvalidDocument');
      expect(run('other-drain').status).toBe('Failed');
    } finally {
      agents.dispose();
    }
  });
});
