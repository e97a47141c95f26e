// What scripts/deploy-check.sh runs is read from README.md and the Dockerfile (scripts/deploy-plan.cjs):
// the real documents give the plan CI runs, the Dockerfile builds with the README's production
// install, and a document that does not fit is refused with the reason.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const deployPlan = require('../../scripts/deploy-plan.cjs') as {
  readChecklist(markdown: string): {
    cloneInstall: string;
    productionInstall: string[];
    productionStart: string;
    steps: { command: string; expect: string }[];
  };
  readDockerfile(text: string): {
    buildRuns: string[];
    runtimeCopies: { from: string; to: string }[];
    cmd: string[];
    healthcheck: string[];
  };
  readPlan(
    root?: string,
  ): ReturnType<typeof deployPlan.readChecklist> & ReturnType<typeof deployPlan.readDockerfile>;
};

const root = path.join(__dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

describe('the plan from the real README.md and Dockerfile', () => {
  const plan = deployPlan.readPlan(root);

  it('runs the checklist in README order, with the lines the README says to look for', () => {
    const commands = plan.steps.map((step) => step.command);
    expect(commands.indexOf('npm run db:migrate')).toBeGreaterThanOrEqual(0);
    expect(commands.indexOf('npm run cache:check')).toBeGreaterThan(commands.indexOf('npm run db:migrate'));
    expect(commands[commands.length - 1]).toBe('npm start');
    expect(plan.steps.find((step) => step.command === 'npm run cache:check')?.expect).toBe(
      '✅ External Redis Cache works',
    );
    expect(plan.steps.find((step) => step.command === 'npm start')?.expect).toBe(
      '✅ Using External Redis Cache (BEST PERFORMANCE)',
    );
  });

  it('builds the image with the production install and starts it with node, no npm in between', () => {
    expect(plan.cloneInstall).toBe('npm ci');
    expect(plan.productionInstall).toEqual(['npm ci', 'npm run build', 'npm prune --omit=dev']);
    expect(plan.buildRuns).toEqual(plan.productionInstall);
    expect(plan.cmd).toEqual(['node', 'dist/main.js']);
    expect(plan.productionStart).toBe('npm run start:prod');
  });

  it('copies into the runtime stage only build output and files the repository has', () => {
    for (const { from } of plan.runtimeCopies) {
      const built = ['dist', 'node_modules'].includes(from);
      expect({ from, ok: built || existsSync(path.join(root, from)) }).toEqual({ from, ok: true });
    }
    expect(plan.runtimeCopies.map((copy) => copy.from)).toEqual(
      expect.arrayContaining(['package.json', 'node_modules', 'dist', 'scripts/ensure-built.cjs']),
    );
  });

  it('checks /healthz with a script the runtime stage has, and runs as a user other than root', () => {
    expect(plan.healthcheck).toEqual(['node', 'scripts/healthcheck.cjs']);
    expect(plan.runtimeCopies.map((copy) => copy.from)).toContain('scripts/healthcheck.cjs');
    expect(readFileSync(path.join(root, 'scripts/healthcheck.cjs'), 'utf8')).toContain('/healthz');
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtimeStage).toMatch(/^USER node$/m);
  });

  it('keeps out of the build context what the image makes itself, and the secrets', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules/', 'dist/', '.env', '.git/']));
  });
});

describe('readChecklist', () => {
  const checklist = (body: string) =>
    `# x\n\n## Deployment checklist\n\n${body}\n\n## Next\n\n1. \`npm run elsewhere\`\n`;
  const installs =
    'Install with `npm ci`; a production install:\n`npm ci && npm run build && npm prune --omit=dev`.\n\n';

  it('takes each item’s first command and first ✅ line, and nothing after the section', () => {
    const parsed = deployPlan.readChecklist(
      checklist(
        `${installs}1. Set \`REDIS_URL\`.\n2. \`npm run db:migrate\`.\n3. \`npm run preflight\`: prints\n` +
          '   `✅ ready` (or `✅ other`).\n4. `npm start` (`npm run start:prod` when built).',
      ),
    );
    expect(parsed.steps).toEqual([
      { command: 'npm run db:migrate', expect: '' },
      { command: 'npm run preflight', expect: '✅ ready' },
      { command: 'npm start', expect: '' },
    ]);
    expect(parsed.productionStart).toBe('npm run start:prod');
  });

  it('refuses a checklist that does not say how to install', () => {
    expect(() => deployPlan.readChecklist(checklist('1. `npm start`'))).toThrow(
      "README.md's '## Deployment checklist' must name the clone's install (`npm ci`) and the production " +
        'install (`npm ci && npm run build && npm prune --omit=dev`); found []',
    );
  });

  it('refuses a start item that does not name the production install’s start', () => {
    expect(() => deployPlan.readChecklist(checklist(`${installs}1. \`npm start\``))).toThrow(
      "README.md's '## Deployment checklist': the `npm start` item must also name the production " +
        "install's start (`npm run start:prod`)",
    );
  });

  it('refuses a checklist without a start', () => {
    expect(() => deployPlan.readChecklist(checklist(`${installs}1. \`npm run db:migrate\``))).toThrow(
      "README.md's '## Deployment checklist' has no `npm start` step",
    );
  });
});

describe('readPlan', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-plan-'));
    writeFileSync(path.join(dir, 'README.md'), readme);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a Dockerfile whose build differs from the README’s production install', () => {
    writeFileSync(path.join(dir, 'Dockerfile'), dockerfile.replace('RUN npm prune --omit=dev\n', ''));
    expect(() => deployPlan.readPlan(dir)).toThrow(
      "Dockerfile's build stage runs 'npm ci && npm run build', but README.md's production install is " +
        "'npm ci && npm run build && npm prune --omit=dev': they must be the same commands in the same order",
    );
  });

  it('refuses a runtime file copied to another path than the build’s', () => {
    writeFileSync(path.join(dir, 'Dockerfile'), dockerfile.replace('/app/dist ./dist', '/app/dist ./out'));
    expect(() => deployPlan.readPlan(dir)).toThrow(
      "Dockerfile: 'COPY --from=build /app/dist ./out' must copy to the same path under /app (./dist)",
    );
  });

  it('refuses a shell-form CMD (the check runs the argument list)', () => {
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      dockerfile.replace('CMD ["node", "dist/main.js"]', 'CMD node dist/main.js'),
    );
    expect(() => deployPlan.readPlan(dir)).toThrow(
      'Dockerfile: CMD must be in exec form (["node", "…"]), got: CMD node dist/main.js',
    );
  });
});
