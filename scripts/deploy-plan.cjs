#!/usr/bin/env node
// What scripts/deploy-check.sh runs, read from the documents a deployer reads, so that the check
// cannot drift from them:
// - from README.md's "## Deployment checklist": the clone's install (`npm ci`), the production
//   install (`npm ci && npm run build && npm prune --omit=dev`), per numbered item its first
//   `npm …` command with the first `✅ …` line the item says to look for, and the start item's
//   second command, the production install's start (`npm run start:prod`);
// - from Dockerfile: the build stage's RUN commands (which must be the production install, in
//   order: there is no Docker engine in CI, so this is how the image's build is tested), what the
//   runtime stage copies from the build stage, its CMD and its HEALTHCHECK.
//
//   node scripts/deploy-plan.cjs     prints the plan as tab-separated lines (see printPlan), or
//                                    exits 1 naming what is missing or does not match
//
// Why the script reads the README instead of a unit test comparing two copies: the checklist is
// prose for people (options, alternatives, what to look for), and any step added there (a new
// command) is run by CI from the moment it lands, with no second list to update.
// Plain CommonJS with Node's built-ins only: it runs in a fresh clone before `npm ci`, and
// test/unit/deployPlan.test.ts requires it.
'use strict';
const { readFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const CHECKLIST_HEADING = '## Deployment checklist';

/** The section under `heading`, up to the next heading of the same level. */
function section(markdown, heading) {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start === -1) throw new Error(`README.md has no '${heading}' section`);
  const end = lines.findIndex((line, index) => index > start && /^## /.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

const codeSpans = (text) => [...text.matchAll(/`([^`]+)`/g)].map((match) => match[1].trim());

/** The checklist's commands: { cloneInstall, productionInstall, productionStart, steps: [{ command, expect }] }. */
function readChecklist(markdown) {
  const lines = section(markdown, CHECKLIST_HEADING);
  const items = [];
  const prose = [];
  for (const line of lines) {
    if (/^\d+\. /.test(line)) items.push(line);
    else if (/^\s+\S/.test(line) && items.length > 0) items[items.length - 1] += ` ${line.trim()}`;
    else prose.push(line);
  }
  // Joined, because prettier wraps prose and a code span can follow a line break.
  const proseSpans = codeSpans(prose.join(' '));
  const installs = proseSpans.filter((span) => /^npm ci\b/.test(span));
  const cloneInstall = installs.find((span) => !span.includes('&&'));
  const production = installs.find((span) => span.includes('npm prune'));
  if (!cloneInstall || !production) {
    throw new Error(
      `README.md's '${CHECKLIST_HEADING}' must name the clone's install (\`npm ci\`) and the production ` +
        `install (\`npm ci && npm run build && npm prune --omit=dev\`); found ${JSON.stringify(installs)}`,
    );
  }
  const steps = [];
  let productionStart;
  for (const item of items) {
    const spans = codeSpans(item);
    const commands = spans.filter((span) => /^npm (start|run [\w:-]+)$/.test(span));
    if (commands.length === 0) continue; // an item that only sets variables
    const expect = spans.find((span) => span.startsWith('✅')) ?? '';
    steps.push({ command: commands[0], expect });
    if (commands[0] === 'npm start') productionStart = commands[1];
  }
  if (!steps.some((step) => step.command === 'npm start')) {
    throw new Error(`README.md's '${CHECKLIST_HEADING}' has no \`npm start\` step`);
  }
  if (!productionStart) {
    throw new Error(
      `README.md's '${CHECKLIST_HEADING}': the \`npm start\` item must also name the production ` +
        "install's start (`npm run start:prod`)",
    );
  }
  return { cloneInstall, productionInstall: production.split(/\s*&&\s*/), productionStart, steps };
}

/** An exec-form instruction's argument list (`["node", "x.js"]`); the shell form is refused. */
function execForm(instruction, text) {
  const json = text.slice(text.indexOf('['));
  try {
    const args = JSON.parse(json);
    if (Array.isArray(args) && args.every((arg) => typeof arg === 'string')) return args;
  } catch {
    // reported below
  }
  throw new Error(`Dockerfile: ${instruction} must be in exec form (["node", "…"]), got: ${text}`);
}

/** { buildRuns, runtimeCopies: [{ from, to }], cmd, healthcheck } of a two-stage Dockerfile. */
function readDockerfile(text) {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.some((line) => line.endsWith('\\'))) {
    throw new Error('Dockerfile: one instruction per line, please (deploy-plan.cjs reads no continuations)');
  }
  const stages = [];
  for (const line of lines) {
    if (/^FROM /i.test(line)) stages.push({ from: line, lines: [] });
    else if (stages.length > 0) stages[stages.length - 1].lines.push(line);
  }
  const build = stages.find((stage) => /\sAS\s+build$/i.test(stage.from));
  const runtime = stages[stages.length - 1];
  if (!build || runtime === build) {
    throw new Error('Dockerfile: expected a stage named build and a runtime stage after it');
  }
  const buildRuns = build.lines.filter((line) => /^RUN /.test(line)).map((line) => line.slice(4).trim());
  const runtimeCopies = runtime.lines
    .filter((line) => /^COPY --from=build /.test(line))
    .map((line) => {
      const [from, to] = line.split(/\s+/).filter((word) => !word.startsWith('--') && word !== 'COPY');
      const relative = path.posix.relative('/app', from);
      if (path.posix.normalize(to) !== relative) {
        // The check lays the runtime out from these lines: the image's paths must be the build's.
        throw new Error(`Dockerfile: '${line}' must copy to the same path under /app (./${relative})`);
      }
      return { from: relative, to };
    });
  const cmdLine = runtime.lines.find((line) => /^CMD /.test(line));
  const healthLine = runtime.lines.find((line) => /^HEALTHCHECK /.test(line));
  if (!cmdLine || !healthLine) throw new Error('Dockerfile: the runtime stage needs a CMD and a HEALTHCHECK');
  return {
    buildRuns,
    runtimeCopies,
    cmd: execForm('CMD', cmdLine),
    healthcheck: execForm('HEALTHCHECK', healthLine.slice(healthLine.indexOf(' CMD ') + 1)),
  };
}

/** Both documents, checked against each other: the image builds with the README's production install. */
function readPlan(root = ROOT) {
  const checklist = readChecklist(readFileSync(path.join(root, 'README.md'), 'utf8'));
  const docker = readDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const expected = checklist.productionInstall.join(' && ');
  if (docker.buildRuns.join(' && ') !== expected) {
    throw new Error(
      `Dockerfile's build stage runs '${docker.buildRuns.join(' && ')}', but README.md's production ` +
        `install is '${expected}': they must be the same commands in the same order`,
    );
  }
  return { ...checklist, ...docker };
}

/** One line per fact, tab-separated, for the shell: kind, then values. */
function printPlan(plan) {
  const out = [`clone-install\t${plan.cloneInstall}`];
  for (const command of plan.productionInstall) out.push(`production-install\t${command}`);
  out.push(`production-start\t${plan.productionStart}`);
  for (const step of plan.steps) out.push(`step\t${step.command}\t${step.expect}`);
  for (const copy of plan.runtimeCopies) out.push(`runtime-copy\t${copy.from}`);
  out.push(`runtime-cmd\t${plan.cmd.join(' ')}`);
  out.push(`healthcheck\t${plan.healthcheck.join(' ')}`);
  return `${out.join('\n')}\n`;
}

if (require.main === module) {
  try {
    process.stdout.write(printPlan(readPlan()));
  } catch (error) {
    console.error(`❌ ${error.message}`);
    process.exitCode = 1;
  }
}

module.exports = { readChecklist, readDockerfile, readPlan, printPlan };
