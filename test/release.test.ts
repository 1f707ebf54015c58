import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The release workflow as projen generates it, and a dry run of its version
// bump in a throwaway clone: nothing is built, tagged upstream or published.

const root = join(__dirname, '..');
const workflow = readFileSync(join(root, '.github/workflows/release.yml'), 'utf8');

/** The secrets a maintainer adds to the repository, by the job that reads them; the README's "Releases" lists them. */
const SECRETS: Record<string, string[]> = {
  release_npm: ['NPM_TOKEN'],
  release_pypi: ['TWINE_USERNAME', 'TWINE_PASSWORD'],
  release_maven: ['MAVEN_USERNAME', 'MAVEN_PASSWORD', 'MAVEN_GPG_PRIVATE_KEY', 'MAVEN_GPG_PRIVATE_KEY_PASSPHRASE', 'MAVEN_STAGING_PROFILE_ID'],
  release_golang: ['GO_GITHUB_TOKEN'],
};

/** The text of one job of the workflow, from its key to the next job's. */
function job(name: string): string {
  const start = workflow.indexOf(`\n  ${name}:\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = workflow.slice(start + 1).search(/\n {2}[a-z_]+:\n/);
  return next < 0 ? workflow.slice(start) : workflow.slice(start, start + 1 + next);
}

describe('the release workflow', () => {
  test('releases on a push to main and runs the release task', () => {
    expect(workflow).toMatch(/on:\n\s+push:\n\s+branches:\n\s+- main/);
    expect(job('release')).toContain('npx projen release');
  });

  test.each(Object.entries(SECRETS))('%s publishes with the secrets the README names', (name, secrets) => {
    const text = job(name);
    for (const secret of secrets) expect(text).toContain(`\${{ secrets.${secret} }}`);
  });

  test('every secret the workflow reads is named in the README, but GitHub\'s own token', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const read = new Set([...workflow.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]));
    read.delete('GITHUB_TOKEN');
    expect([...read].sort()).toEqual(Object.values(SECRETS).flat().sort());
    for (const secret of read) expect(readme).toContain(`\`${secret}\``);
  });

  test('the packages are published at the bumped version: the release task bumps, builds, then restores 0.0.0', () => {
    const tasks = JSON.parse(readFileSync(join(root, '.projen/tasks.json'), 'utf8')).tasks;
    expect(tasks.release.steps.map((s: { spawn?: string }) => s.spawn).filter(Boolean)).toEqual(['bump', 'build', 'unbump']);
  });
});

describe('a version bump, in a throwaway clone', () => {
  let clone: string;
  beforeAll(() => {
    clone = mkdtempSync(join(tmpdir(), 'release-bump-'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: clone, encoding: 'utf8' });
    execFileSync('git', ['clone', '--quiet', root, clone]);
    git('config', 'user.email', 'release-test@example.com');
    git('config', 'user.name', 'release test');
    // A previous release, then one feature and one fix since.
    git('tag', 'v0.3.1');
    git('commit', '--allow-empty', '--quiet', '-m', 'feat: a hook drains instances before they terminate');
    git('commit', '--allow-empty', '--quiet', '-m', 'fix: a command that exits 137 counts as timed out');
    git('commit', '--allow-empty', '--quiet', '-m', 'docs: a sentence in the README');
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
    execFileSync('npx', ['projen', 'bump'], { cwd: clone, stdio: 'pipe', env: { ...process.env, CI: 'true' } });
  }, 120_000);
  afterAll(() => rmSync(clone, { recursive: true, force: true }));

  // Before 1.0.0, a feature or a fix is a patch version and a breaking change a minor one.
  test('a feature since the last 0.x release is a patch version', () => {
    expect(readFileSync(join(clone, 'dist/version.txt'), 'utf8').trim()).toBe('0.3.2');
    expect(readFileSync(join(clone, 'dist/releasetag.txt'), 'utf8').trim()).toBe('v0.3.2');
    expect(JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')).version).toBe('0.3.2');
  });

  test('the changelog lists the feature and the fix, not the other commits', () => {
    const changelog = readFileSync(join(clone, 'dist/changelog.md'), 'utf8');
    expect(changelog).toMatch(/## \[0\.3\.2\]/);
    expect(changelog).toMatch(/### Features\n\n\* a hook drains instances before they terminate/);
    expect(changelog).toMatch(/### Bug Fixes\n\n\* a command that exits 137 counts as timed out/);
    expect(changelog).not.toContain('a sentence in the README');
  });

  test('unbump restores the version the repository keeps', () => {
    execFileSync('npx', ['projen', 'unbump'], { cwd: clone, stdio: 'pipe' });
    expect(JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')).version).toBe('0.0.0');
  }, 60_000);
});
