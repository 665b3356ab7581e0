import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { AppError } from '../errors';
import { auditEntries } from './catalogue-entries';

const auditIds = Object.keys(auditEntries);

const auditSection = z
  .object({
    exclude: z.array(z.string().min(1)).default([]),
    'include-tests': z.boolean().optional(),
    disable: z
      .array(
        z.string().refine((id) => auditIds.includes(id), {
          error: (issue) => `unknown finding ID "${String(issue.input)}"`,
        }),
      )
      .default([]),
  })
  .strict();

export interface AuditConfig {
  exclude: string[];
  includeTests: boolean;
  disable: string[];
  /** Config files that were read, relative to the root. */
  sources: string[];
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function sectionOf(document: unknown, keys: readonly string[]): unknown {
  let value = document;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** One config file's audit section, validated; undefined when the file or the section is absent. */
async function readSection(root: string, file: string, keys: readonly string[]) {
  const text = await readIfPresent(path.join(root, file));
  if (text === null) return undefined;
  let document: unknown;
  try {
    document = parseToml(text);
  } catch (error) {
    throw new AppError(
      'invalid_request',
      `${file}: not valid TOML (${(error as Error).message.split('\n')[0]})`,
    );
  }
  const section = sectionOf(document, keys);
  if (section === undefined) return undefined;
  const parsed = auditSection.safeParse(section);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'section'}: ${issue.message}`,
    );
    throw new AppError('invalid_request', `${file} [${keys.join('.')}]: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** `[tool.vigil.audit]` in pyproject.toml and `[audit]` in vigil.toml; vigil.toml wins on include-tests. */
export async function loadAuditConfig(root: string): Promise<AuditConfig> {
  const pyproject = await readSection(root, 'pyproject.toml', ['tool', 'vigil', 'audit']);
  const vigil = await readSection(root, 'vigil.toml', ['audit']);
  const config: AuditConfig = { exclude: [], includeTests: false, disable: [], sources: [] };
  for (const [name, section] of [
    ['pyproject.toml', pyproject],
    ['vigil.toml', vigil],
  ] as const) {
    if (!section) continue;
    config.sources.push(name);
    config.exclude.push(...section.exclude);
    config.disable.push(...section.disable);
    if (section['include-tests'] !== undefined) config.includeTests = section['include-tests'];
  }
  return config;
}

/** Compiles a gitignore-like glob: `*` within a segment, `**` across, a pattern without `/` matches any segment. */
export function globMatcher(pattern: string): (relativePath: string) => boolean {
  const anchored = pattern.includes('/') && !pattern.startsWith('**/');
  const cleaned = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  let source = '';
  for (let index = 0; index < cleaned.length; index++) {
    const char = cleaned[index]!;
    if (char === '*' && cleaned[index + 1] === '*') {
      const slash = cleaned[index + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      index += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(anchored ? `^${source}(?:/.*)?$` : `(?:^|/)${source}(?:/.*)?$`);
  return (relativePath) => regex.test(relativePath);
}
