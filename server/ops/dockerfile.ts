/**
 * Just enough of the Dockerfile and .dockerignore formats to check docker/ without a Docker engine:
 * the tests read the real files and run the image's start command the way the image would.
 */

export interface Instruction {
  keyword: string;
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  image: string;
  name: string | null;
  instructions: Instruction[];
}

/** Instructions grouped by stage; continuation lines joined, comments and parser directives dropped. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const start = index;
    let logical = lines[index]?.trim() ?? '';
    if (logical === '' || logical.startsWith('#')) continue;
    while (logical.endsWith('\\') && index + 1 < lines.length) {
      index += 1;
      const next = lines[index]?.trim() ?? '';
      // A comment inside a continuation is dropped and the instruction goes on.
      if (!next.startsWith('#')) logical = `${logical.slice(0, -1).trimEnd()} ${next}`;
    }
    const [keyword = '', ...rest] = logical.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' '), line: start + 1 };
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest;
      stages.push({ image, name: as?.toUpperCase() === 'AS' && name ? name : null, instructions: [] });
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${start + 1}: ${instruction.keyword} before any FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

/** `["node", "x"]` → its words; null for the shell form. */
export function execForm(args: string): string[] | null {
  if (!args.trim().startsWith('[')) return null;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string'))
    throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/** `ENV A=1 B="two words"` → { A: '1', B: 'two words' }. */
export function envAssignments(args: string): Record<string, string> {
  const assignments: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const [, name = '', raw = ''] = match;
    assignments[name] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return assignments;
}

/** Leading `--flag=value` options of an instruction, and what follows them. */
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args.trim();
  for (
    let match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    match;
    match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest)
  ) {
    flags[match[1] ?? ''] = match[2] ?? '';
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index] ?? '';
    if (char === '*' && pattern[index + 1] === '*') {
      // `**/` matches any number of directories, including none.
      source += pattern[index + 2] === '/' ? '(?:.*/)?' : '.*';
      index += pattern[index + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether .dockerignore leaves a path (relative to the context root, `/`-separated) out of the build
 * context: a path is out when it or one of its parent directories matches; `!` patterns bring it back.
 */
export function createDockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = (include ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      return { include, regexp: patternToRegExp(pattern) };
    });
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let ignored = false;
    for (const rule of rules)
      if (prefixes.some((prefix) => rule.regexp.test(prefix))) ignored = !rule.include;
    return ignored;
  };
}
