import {
  argumentAt,
  argumentsOf,
  childrenOf,
  dottedName,
  firstStatementOf,
  forEachDescendant,
  literalValue,
  moduleLevelStatements,
  type PyNode,
  type PythonModule,
  type PyValue,
  qualifiedName,
  stringContentRange,
  textOf,
} from '../python';

type Range = readonly [number, number];

/** What a settings assignment evaluates to, as far as reading the source can tell. */
export type SettingValue =
  | { kind: 'literal'; value: PyValue }
  /** Read from the environment; `fallback` is the literal default used when the variable is unset. */
  | { kind: 'env'; fallback: PyValue | null }
  | { kind: 'computed' };

/** A module-level step that changes settings, in source order. */
export type SettingEvent =
  /** `conditional`: under an `if`/`for`/`while`, so it may not run (e.g. `if os.environ.get("DEV"): DEBUG = True`). */
  | { kind: 'assign'; name: string; value: SettingValue; at: number; redact: Range[]; conditional: boolean }
  /** `+=`, `.append()`, `.extend()`, `.insert()`; `items` null when not literal strings. */
  | { kind: 'extend'; name: string; items: string[] | null; at: number; conditional: boolean }
  | { kind: 'remove'; name: string; item: string }
  | { kind: 'star-import'; module: string; at: number };

export interface SettingsFacts {
  events: SettingEvent[];
  /** `DJANGO_SETTINGS_MODULE` values set in this file (manage.py, wsgi.py, asgi.py). */
  settingsModuleRefs: string[];
  /** Assigns SECRET_KEY or INSTALLED_APPS at module level: a settings module by itself. */
  declaresSettings: boolean;
  firstStatementAt: number;
  /** Literal strings assigned to secret-looking names (SECRET_KEY, *_PASSWORD, "PASSWORD": …): never shown. */
  secretRanges: Range[];
}

const SETTING_NAME = /^[A-Z][A-Z0-9_]*$/;
const SECRET_NAME = /SECRET|PASSWORD$|TOKEN$|API_KEY$|PRIVATE_KEY$/i;
const ENV_GETTERS = new Set(['os.environ.get', 'os.getenv', 'os.environ.setdefault']);
/** Call names of django-environ / python-decouple / environs readers (`env("X")`, `env.bool("X")`, `config("X")`). */
const ENV_READER_NAMES = new Set(['env', 'config', 'decouple.config']);

/** Names bound at module level to `environ.Env(…)` / `Env()` (django-environ, environs). */
function envReaderNames(module: PythonModule, statements: readonly PyNode[]): Set<string> {
  const names = new Set(ENV_READER_NAMES);
  for (const statement of statements) {
    if (statement.name !== 'AssignStatement') continue;
    const [target, operator, value] = childrenOf(statement);
    if (target?.name !== 'VariableName' || operator?.name !== 'AssignOp' || value?.name !== 'CallExpression')
      continue;
    const callee = value.firstChild ? qualifiedName(module, value.firstChild) : null;
    if (callee === 'Env' || callee?.endsWith('.Env')) names.add(textOf(module.text, target));
  }
  return names;
}

interface EnvRead {
  fallback: PyNode | null;
}

/** `os.environ[…]`, `os.environ.get(…)`, `os.getenv(…)`, `env(…)`, `env.bool(…)`, `config(…)`. */
function envReadOf(module: PythonModule, readers: ReadonlySet<string>, node: PyNode): EnvRead | null {
  if (node.name === 'MemberExpression' && node.getChild('[')) {
    const object = node.firstChild ? qualifiedName(module, node.firstChild) : null;
    return object === 'os.environ' ? { fallback: null } : null;
  }
  const callee = node.name === 'CallExpression' ? node.firstChild : null;
  if (!callee) return null;
  const qualified = qualifiedName(module, callee);
  const args = () => argumentsOf(module.text, node.getChild('ArgList'));
  if (qualified !== null && ENV_GETTERS.has(qualified))
    return { fallback: argumentAt(args(), 1, 'default') ?? null };
  const written = dottedName(module.text, callee);
  const head = written?.split('.')[0] ?? '';
  if (readers.has(head) || (written !== null && readers.has(written))) {
    return { fallback: args().keywords.get('default') ?? null };
  }
  return null;
}

function containsEnvRead(module: PythonModule, readers: ReadonlySet<string>, node: PyNode): boolean {
  if (envReadOf(module, readers, node)) return true;
  let found = false;
  forEachDescendant(node, (inner) => {
    found ||= envReadOf(module, readers, inner) !== null;
  });
  return found;
}

function stringRanges(module: PythonModule, node: PyNode): Range[] {
  const ranges: Range[] = [];
  const visit = (inner: PyNode) => {
    if (inner.name === 'String' || inner.name === 'FormatString')
      ranges.push(stringContentRange(module.text, inner));
  };
  visit(node);
  forEachDescendant(node, visit);
  return ranges;
}

/** Classifies an assigned value; `redact` covers every literal string that could be a secret. */
function classify(
  module: PythonModule,
  readers: ReadonlySet<string>,
  node: PyNode,
): { value: SettingValue; redact: Range[] } {
  const literal = literalValue(module.text, node);
  if (literal)
    return { value: { kind: 'literal', value: literal.value }, redact: stringRanges(module, node) };
  const direct = envReadOf(module, readers, node);
  if (direct) {
    const fallback = direct.fallback ? literalValue(module.text, direct.fallback) : null;
    return {
      value: { kind: 'env', fallback: fallback?.value ?? null },
      redact: direct.fallback && fallback ? stringRanges(module, direct.fallback) : [],
    };
  }
  const [left, operator, right] = node.name === 'BinaryExpression' ? childrenOf(node) : [];
  if (left && right && operator?.name === 'or' && envReadOf(module, readers, left)) {
    const fallback = literalValue(module.text, right);
    if (fallback)
      return { value: { kind: 'env', fallback: fallback.value }, redact: stringRanges(module, right) };
  }
  if (containsEnvRead(module, readers, node)) return { value: { kind: 'env', fallback: null }, redact: [] };
  return { value: { kind: 'computed' }, redact: [] };
}

/** Strings under `"PASSWORD": …`-like keys of dict literals (DATABASES, CACHES, …). */
function secretDictRanges(module: PythonModule, value: PyNode): Range[] {
  const ranges: Range[] = [];
  forEachDescendant(value, (node) => {
    if (node.name !== 'DictionaryExpression') return;
    const parts = childrenOf(node);
    parts.forEach((part, index) => {
      const key = parts[index - 2];
      if (part.name === ':' || parts[index - 1]?.name !== ':' || !key) return;
      const keyValue = literalValue(module.text, key)?.value;
      if (typeof keyValue === 'string' && SECRET_NAME.test(keyValue))
        ranges.push(...stringRanges(module, part));
    });
  });
  return ranges;
}

function stringItems(value: PyValue | undefined): string[] | null {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return null;
  return value.every((item) => typeof item === 'string') ? (value as string[]) : null;
}

function assignmentEvents(
  module: PythonModule,
  readers: ReadonlySet<string>,
  statement: PyNode,
  conditional: boolean,
): SettingEvent[] {
  const segments: PyNode[][] = [[]];
  for (const part of childrenOf(statement)) {
    if (part.name === 'AssignOp') segments.push([]);
    else if (part.name !== 'TypeDef') segments.at(-1)!.push(part);
  }
  const [value, ...extra] = segments.at(-1) ?? [];
  if (segments.length < 2 || !value || extra.length > 0) return [];
  const targets = segments
    .slice(0, -1)
    .filter((segment) => segment.length === 1 && segment[0]!.name === 'VariableName')
    .map((segment) => textOf(module.text, segment[0]!))
    .filter((name) => SETTING_NAME.test(name));
  if (targets.length === 0) return [];
  const { value: classified, redact } = classify(module, readers, value);
  return targets.map((name) => ({
    kind: 'assign',
    name,
    value: classified,
    at: statement.from,
    redact,
    conditional,
  }));
}

/** Ranges of secret values in one module-level assignment. */
function secretRangesOf(module: PythonModule, events: readonly SettingEvent[], statement: PyNode): Range[] {
  const value = statement.lastChild;
  const named = events.flatMap((event) =>
    event.kind === 'assign' && event.at === statement.from && SECRET_NAME.test(event.name)
      ? event.redact
      : [],
  );
  return value ? [...named, ...secretDictRanges(module, value)] : named;
}

/** `NAME.append("x")`, `NAME.insert(0, "x")`, `NAME.extend([...])`, `NAME.remove("x")`. */
function listCallEvent(module: PythonModule, statement: PyNode, conditional: boolean): SettingEvent | null {
  const call = statement.firstChild;
  const callee = call?.name === 'CallExpression' ? call.firstChild : null;
  const name = callee ? dottedName(module.text, callee) : null;
  if (!call || name === null) return null;
  const [target, method] = name.split('.');
  if (!target || !method || name.split('.').length !== 2 || !SETTING_NAME.test(target)) return null;
  const { positional } = argumentsOf(module.text, call.getChild('ArgList'));
  const item = method === 'insert' ? positional[1] : positional[0];
  const literal = item ? literalValue(module.text, item)?.value : undefined;
  if (method === 'append' || method === 'insert') {
    return {
      kind: 'extend',
      name: target,
      items: typeof literal === 'string' ? [literal] : null,
      at: statement.from,
      conditional,
    };
  }
  if (method === 'extend')
    return { kind: 'extend', name: target, items: stringItems(literal), at: statement.from, conditional };
  if (method === 'remove' && typeof literal === 'string')
    return { kind: 'remove', name: target, item: literal };
  return null;
}

/** `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")` and `os.environ["DJANGO_SETTINGS_MODULE"] = "x"`. */
function settingsModuleRefsOf(module: PythonModule): string[] {
  const refs: string[] = [];
  for (const call of module.calls) {
    if (call.qualified !== 'os.environ.setdefault') continue;
    const [key, value] = call.args.positional.map((node) => literalValue(module.text, node)?.value);
    if (key === 'DJANGO_SETTINGS_MODULE' && typeof value === 'string') refs.push(value);
  }
  forEachDescendant(module.top, (node) => {
    if (node.name !== 'AssignStatement') return;
    const [target, operator, value] = childrenOf(node);
    if (target?.name !== 'MemberExpression' || operator?.name !== 'AssignOp' || !value) return;
    const object = target.firstChild ? qualifiedName(module, target.firstChild) : null;
    const key = childrenOf(target).find((part) => part.name === 'String');
    const literal = literalValue(module.text, value)?.value;
    if (
      object === 'os.environ' &&
      key &&
      literalValue(module.text, key)?.value === 'DJANGO_SETTINGS_MODULE'
    ) {
      if (typeof literal === 'string') refs.push(literal);
    }
  });
  return refs;
}

const ENTRY_POINTS = new Set(['manage.py', 'wsgi.py', 'asgi.py']);
const CONDITIONAL_BLOCKS = new Set(['IfStatement', 'ForStatement', 'WhileStatement']);

function isConditional(statement: PyNode): boolean {
  for (let parent = statement.parent; parent; parent = parent.parent) {
    if (CONDITIONAL_BLOCKS.has(parent.name)) return true;
  }
  return false;
}

/** The settings-relevant facts of one file, gathered from its module-level statements. */
export function settingsFactsOf(module: PythonModule): SettingsFacts {
  const statements = moduleLevelStatements(module.top);
  const readers = envReaderNames(module, statements);
  const events: SettingEvent[] = [];
  const secretRanges: Range[] = [];
  for (const statement of statements) {
    const conditional = isConditional(statement);
    if (statement.name === 'AssignStatement') {
      const assigned = assignmentEvents(module, readers, statement, conditional);
      events.push(...assigned);
      secretRanges.push(...secretRangesOf(module, assigned, statement));
    } else if (statement.name === 'UpdateStatement') {
      const [target, operator, value] = childrenOf(statement);
      const name = target?.name === 'VariableName' ? textOf(module.text, target) : '';
      if (!SETTING_NAME.test(name) || !operator || !value || textOf(module.text, operator) !== '+=') continue;
      events.push({
        kind: 'extend',
        name,
        items: stringItems(literalValue(module.text, value)?.value),
        at: statement.from,
        conditional,
      });
    } else if (statement.name === 'ExpressionStatement') {
      const event = listCallEvent(module, statement, conditional);
      if (event) events.push(event);
    } else if (statement.name === 'ImportStatement') {
      const parts = childrenOf(statement);
      if (parts[0]?.name !== 'from' || parts.at(-1)?.name !== '*') continue;
      const importAt = parts.findIndex((part) => part.name === 'import');
      const from = parts
        .slice(1, importAt)
        .map((part) => textOf(module.text, part))
        .join('');
      events.push({ kind: 'star-import', module: from, at: statement.from });
    }
  }
  const baseName = module.file.slice(module.file.lastIndexOf('/') + 1);
  return {
    events,
    settingsModuleRefs: ENTRY_POINTS.has(baseName) ? settingsModuleRefsOf(module) : [],
    declaresSettings: events.some(
      (event) => event.kind === 'assign' && (event.name === 'SECRET_KEY' || event.name === 'INSTALLED_APPS'),
    ),
    firstStatementAt: firstStatementOf(module.top)?.from ?? 0,
    secretRanges,
  };
}
