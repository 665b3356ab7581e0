import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createDockerignore,
  envAssignments,
  execForm,
  type Instruction,
  parseDockerfile,
  splitFlags,
} from './dockerfile';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = parseDockerfile(readFileSync(`${ROOT}docker/Dockerfile`, 'utf8'));
const ignored = createDockerignore(readFileSync(`${ROOT}.dockerignore`, 'utf8'));
const runtime = dockerfile.at(-1)!;
const build = dockerfile[0]!;

function all(stageInstructions: Instruction[], keyword: string): Instruction[] {
  return stageInstructions.filter((instruction) => instruction.keyword === keyword);
}

function one(stageInstructions: Instruction[], keyword: string): Instruction {
  const found = all(stageInstructions, keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!;
}

describe('the Dockerfile parser', () => {
  it('joins continuation lines, skips comments inside them and groups instructions by stage', () => {
    const stages = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM a:1 AS one',
        'RUN x \\',
        '# note',
        ' && y',
        'FROM b:2',
        'CMD ["z"]',
      ].join('\n'),
    );
    expect(stages.map((stage) => [stage.image, stage.name])).toEqual([
      ['a:1', 'one'],
      ['b:2', null],
    ]);
    expect(stages[0]!.instructions[1]).toEqual({ keyword: 'RUN', args: 'x && y', line: 3 });
    expect(execForm(stages[1]!.instructions[1]!.args)).toEqual(['z']);
  });

  it('reads ENV assignments, flags and .dockerignore patterns', () => {
    expect(envAssignments('A=1 B="two words" C=')).toEqual({ A: '1', B: 'two words', C: '' });
    expect(splitFlags('--from=build --chown=1:1 /app/x ./x')).toEqual({
      flags: { from: 'build', chown: '1:1' },
      rest: '/app/x ./x',
    });
    const rules = createDockerignore('**/node_modules\n*.log\nserver/testing\n!keep.log\n');
    expect(['node_modules/x', 'web/node_modules', 'a.log', 'server/testing/fleet.ts'].map(rules)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['keep.log', 'logs/a.log', 'server/app.ts'].map(rules)).toEqual([false, false, false]);
  });
});

describe('docker/Dockerfile', () => {
  it('builds in one stage and runs from another, on the same Node image', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    expect(runtime.image).toBe(build.image);
    const engines = z
      .object({ engines: z.object({ node: z.string() }) })
      .parse(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')));
    const major = /node:(\d+)/.exec(runtime.image)?.[1];
    expect(engines.engines.node).toContain(`${major}.`);
    expect(runtime.image).toMatch(/-slim$/);
  });

  it('ships production dependencies only, and no compilers in the runtime image', () => {
    const buildRuns = all(build.instructions, 'RUN').map((instruction) => instruction.args);
    expect(buildRuns.some((run) => /npm prune --omit=dev|npm ci --omit=dev/.test(run))).toBe(true);
    const runtimeRuns = all(runtime.instructions, 'RUN').map((instruction) => instruction.args);
    expect(runtimeRuns.join('\n')).not.toMatch(/npm (ci|install)|g\+\+|build-essential/);
  });

  it('runs as a non-root user, keeps data on a /data volume, listens on 8080 and checks /healthz', () => {
    const user = one(runtime.instructions, 'USER').args.split(':')[0];
    expect(user).not.toMatch(/^(root|0)$/);
    const userLine = one(runtime.instructions, 'USER').line;
    expect(one(runtime.instructions, 'CMD').line).toBeGreaterThan(userLine);
    const env = Object.assign(
      {},
      ...all(runtime.instructions, 'ENV').map((line) => envAssignments(line.args)),
    );
    expect(env).toMatchObject({ VIGIL_DATA_DIR: '/data', VIGIL_PORT: '8080', VIGIL_HOST: '0.0.0.0' });
    expect(execForm(one(runtime.instructions, 'VOLUME').args)).toEqual(['/data']);
    expect(one(runtime.instructions, 'EXPOSE').args).toBe('8080');
    const healthcheck = splitFlags(one(runtime.instructions, 'HEALTHCHECK').args);
    expect(Object.keys(healthcheck.flags).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    const probe = execForm(healthcheck.rest.replace(/^CMD\s+/, ''));
    expect(probe?.[0]).toBe('node');
    expect(probe?.join(' ')).toContain('/healthz');
  });

  it('starts Node itself in exec form, so SIGTERM reaches the server and not a shell or npm', () => {
    const command = execForm(one(runtime.instructions, 'CMD').args);
    expect(command).toEqual(['node', 'bin/vigil.js', 'serve']);
    expect(all(runtime.instructions, 'ENTRYPOINT')).toHaveLength(0);
    expect(one(runtime.instructions, 'STOPSIGNAL').args).toBe('SIGTERM');
  });

  it('copies into the runtime image only paths the build context provides', () => {
    const copies = all(runtime.instructions, 'COPY').map((instruction) => splitFlags(instruction.args));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      expect(copy.flags.from).toBe(build.name);
      const [source = ''] = copy.rest.split(/\s+/);
      const path = source.replace(/^\/app\//, '');
      // Built in the image (web/dist) or installed there (node_modules); everything else comes from the context.
      if (path === 'web/dist' || path === 'node_modules') continue;
      expect(existsSync(`${ROOT}${path}`), path).toBe(true);
      expect(ignored(path), `${path} is in .dockerignore`).toBe(false);
    }
  });

  it('keeps local state, secrets and host builds out of the build context', () => {
    for (const path of ['.git/HEAD', 'node_modules/hono/package.json', 'data/vigil.db', 'backup.db', '.env'])
      expect(ignored(path), path).toBe(true);
    for (const path of [
      'package.json',
      'package-lock.json',
      'server/app.ts',
      'web/index.html',
      'migrations/sqlite',
    ])
      expect(ignored(path), path).toBe(false);
  });
});
