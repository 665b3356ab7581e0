import { parser } from '@lezer/python';

type Tree = ReturnType<typeof parser.parse>;
/** A node of the @lezer/python syntax tree. */
export type PyNode = Tree['topNode'];

/** A literal Python value as far as the audit needs one; dicts are only known to be dicts. */
export type PyValue = string | number | boolean | null | PyValue[] | { readonly dict: true };

/** A call with its callee names worked out once, for every rule to filter on cheaply. */
export interface PyCall {
  node: PyNode;
  callee: PyNode;
  /** The callee as written (`cursor.execute`); null when it is not a dotted name. */
  written: string | null;
  /** `written` with its first segment resolved through the imports (`sp.run` → `subprocess.run`). */
  qualified: string | null;
  /** The called function or method name (`execute` for `connection.cursor().execute`), or ''. */
  method: string;
  /** The arguments, split on first use. */
  readonly args: CallArguments;
}

/** A parsed Python file with the node lists the rules need, gathered in one walk. */
export interface PythonModule {
  file: string;
  text: string;
  top: PyNode;
  /** Local name → qualified name from every import in the file (`sp` → `subprocess`, `run` → `subprocess.run`). */
  imports: ReadonlyMap<string, string>;
  /** Names defined by `def`/`class` at any level; they shadow builtins such as eval. */
  definedNames: ReadonlySet<string>;
  calls: PyCall[];
  decorators: PyNode[];
  classes: PyNode[];
  functions: PyNode[];
  comments: PyNode[];
  /** Offset of the first syntax error, or null when the file parsed cleanly. */
  firstErrorAt: number | null;
}

export function parsePython(file: string, text: string): PythonModule {
  const tree = parser.parse(text);
  const callNodes: PyNode[] = [];
  const imports = new Map<string, string>();
  const definedNames = new Set<string>();
  const module: PythonModule = {
    file,
    text,
    top: tree.topNode,
    imports,
    definedNames,
    calls: [],
    decorators: [],
    classes: [],
    functions: [],
    comments: [],
    firstErrorAt: null,
  };
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        module.firstErrorAt ??= ref.from;
        return;
      }
      switch (ref.name) {
        case 'CallExpression':
          callNodes.push(ref.node);
          break;
        case 'Decorator':
          module.decorators.push(ref.node);
          break;
        case 'ClassDefinition':
          module.classes.push(ref.node);
          recordDefinedName(ref.node, text, definedNames);
          break;
        case 'FunctionDefinition':
          module.functions.push(ref.node);
          recordDefinedName(ref.node, text, definedNames);
          break;
        case 'Comment':
          module.comments.push(ref.node);
          break;
        case 'ImportStatement':
          recordImports(ref.node, text, imports);
          return false;
      }
      return undefined;
    },
  });
  module.calls = callNodes.flatMap((node) => {
    const call = describeCall(module, node);
    return call ? [call] : [];
  });
  return module;
}

function describeCall(module: PythonModule, node: PyNode): PyCall | null {
  const callee = node.firstChild;
  if (!callee) return null;
  const written = dottedName(module.text, callee);
  const last = callee.name === 'MemberExpression' ? callee.lastChild : callee;
  const method =
    last && (last.name === 'PropertyName' || last.name === 'VariableName') ? textOf(module.text, last) : '';
  let args: CallArguments | null = null;
  return {
    node,
    callee,
    written,
    qualified: written === null ? null : qualify(module.imports, written),
    method,
    get args() {
      args ??= argumentsOf(module.text, node.getChild('ArgList'));
      return args;
    },
  };
}

function qualify(imports: ReadonlyMap<string, string>, dotted: string): string {
  const dot = dotted.indexOf('.');
  const head = dot === -1 ? dotted : dotted.slice(0, dot);
  const imported = imports.get(head);
  if (imported === undefined) return dotted;
  return dot === -1 ? imported : `${imported}${dotted.slice(dot)}`;
}

function recordDefinedName(definition: PyNode, text: string, names: Set<string>): void {
  const name = definition.getChild('VariableName');
  if (name) names.add(textOf(text, name));
}

export function textOf(text: string, node: PyNode): string {
  return text.slice(node.from, node.to);
}

export function childrenOf(node: PyNode): PyNode[] {
  const children: PyNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) children.push(child);
  return children;
}

/** `a.b.c` for a VariableName or a chain of `.name` member accesses; null for anything else. */
export function dottedName(text: string, node: PyNode): string | null {
  if (node.name === 'VariableName') return textOf(text, node);
  if (node.name !== 'MemberExpression') return null;
  const object = node.firstChild;
  const property = node.lastChild;
  if (!object || !property || property.name !== 'PropertyName') return null;
  const base = dottedName(text, object);
  return base === null ? null : `${base}.${textOf(text, property)}`;
}

/** The dotted name with its first segment replaced by what it was imported as. */
export function qualifiedName(module: PythonModule, node: PyNode): string | null {
  const dotted = dottedName(module.text, node);
  return dotted === null ? null : qualify(module.imports, dotted);
}

export function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

export interface CallArguments {
  positional: PyNode[];
  keywords: Map<string, PyNode>;
}

/** The arguments of a call (or a decorator's or class's ArgList), split into positional and keyword. */
export function argumentsOf(text: string, argList: PyNode | null): CallArguments {
  const parsed: CallArguments = { positional: [], keywords: new Map() };
  if (argList?.name !== 'ArgList') return parsed;
  let segment: PyNode[] = [];
  const flush = () => {
    const [first, second, third] = segment;
    if (first && second?.name === 'AssignOp' && third) parsed.keywords.set(textOf(text, first), third);
    else if (first && first.name !== '*' && first.name !== '**') parsed.positional.push(first);
    segment = [];
  };
  for (let child = argList.firstChild; child; child = child.nextSibling) {
    if (child.name === '(' || child.name === ')') continue;
    if (child.name === ',') flush();
    else segment.push(child);
  }
  flush();
  return parsed;
}

/** The positional argument at `index`, or the keyword argument `keyword`. */
export function argumentAt(args: CallArguments, index: number, keyword: string): PyNode | undefined {
  return args.positional[index] ?? args.keywords.get(keyword);
}

const STRING_PREFIX = /^[A-Za-z]*/;

/** Offsets of the characters between a string literal's quotes. */
export function stringContentRange(text: string, node: PyNode): readonly [number, number] {
  const raw = textOf(text, node);
  const prefix = STRING_PREFIX.exec(raw)?.[0].length ?? 0;
  const quote = raw.startsWith('"""', prefix) || raw.startsWith("'''", prefix) ? 3 : 1;
  return [node.from + prefix + quote, Math.max(node.from + prefix + quote, node.to - quote)];
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

function decodeString(text: string, node: PyNode): string {
  const raw = textOf(text, node);
  const isRaw = /^[A-Za-z]*[rR]/.test(raw);
  const [from, to] = stringContentRange(text, node);
  const content = text.slice(from, to);
  if (isRaw) return content;
  return content.replace(/\\(.)/gs, (whole, escaped: string) => ESCAPES[escaped] ?? whole);
}

const NO_VALUE = Symbol('not a literal');
type Evaluated = PyValue | typeof NO_VALUE;

function evaluate(text: string, node: PyNode): Evaluated {
  switch (node.name) {
    case 'String':
      return decodeString(text, node);
    case 'FormatString':
      return node.getChild('FormatReplacement') ? NO_VALUE : decodeString(text, node);
    case 'ContinuedString': {
      let joined = '';
      for (const part of childrenOf(node)) {
        const value = evaluate(text, part);
        if (typeof value !== 'string') return NO_VALUE;
        joined += value;
      }
      return joined;
    }
    case 'Number': {
      const value = Number(textOf(text, node).replace(/_/g, ''));
      return Number.isNaN(value) ? NO_VALUE : value;
    }
    case 'Boolean':
      return textOf(text, node) === 'True';
    case 'None':
      return null;
    case 'UnaryExpression': {
      const operand = node.lastChild;
      const value = operand ? evaluate(text, operand) : NO_VALUE;
      if (typeof value !== 'number') return NO_VALUE;
      return textOf(text, node).trimStart().startsWith('-') ? -value : value;
    }
    case 'ParenthesizedExpression': {
      const inner = childrenOf(node).filter((child) => child.name !== '(' && child.name !== ')');
      return inner.length === 1 ? evaluate(text, inner[0]!) : NO_VALUE;
    }
    case 'ArrayExpression':
    case 'TupleExpression':
    case 'SetExpression': {
      const items: PyValue[] = [];
      for (const child of childrenOf(node)) {
        if (['(', ')', '[', ']', '{', '}', ','].includes(child.name)) continue;
        const value = evaluate(text, child);
        if (value === NO_VALUE) return NO_VALUE;
        items.push(value);
      }
      return items;
    }
    case 'DictionaryExpression': {
      for (const child of childrenOf(node)) {
        if (['{', '}', ',', ':'].includes(child.name)) continue;
        if (evaluate(text, child) === NO_VALUE) return NO_VALUE;
      }
      return { dict: true };
    }
    case 'BinaryExpression':
      return evaluateBinary(text, node);
    default:
      return NO_VALUE;
  }
}

/** `"a" + "b"`, `"%s" % "x"`, `["a"] + ["b"]`: operations on literals are literals too. */
function evaluateBinary(text: string, node: PyNode): Evaluated {
  const [left, operator, right] = childrenOf(node);
  if (!left || !operator || !right || operator.name !== 'ArithOp') return NO_VALUE;
  const leftValue = evaluate(text, left);
  const rightValue = evaluate(text, right);
  if (leftValue === NO_VALUE || rightValue === NO_VALUE) return NO_VALUE;
  const op = textOf(text, operator);
  if (op === '+' && typeof leftValue === 'string' && typeof rightValue === 'string')
    return leftValue + rightValue;
  if (op === '+' && Array.isArray(leftValue) && Array.isArray(rightValue))
    return [...leftValue, ...rightValue];
  if (op === '+' && typeof leftValue === 'number' && typeof rightValue === 'number')
    return leftValue + rightValue;
  if (op === '*' && typeof leftValue === 'number' && typeof rightValue === 'number')
    return leftValue * rightValue;
  if (op === '*' && typeof leftValue === 'string' && typeof rightValue === 'number') {
    return leftValue.repeat(Math.max(0, Math.min(rightValue, 10_000)));
  }
  return leftValue;
}

/** The node's value when it is a literal (strings without interpolation, numbers, lists of literals…). */
export function literalValue(text: string, node: PyNode): { value: PyValue } | null {
  const value = evaluate(text, node);
  return value === NO_VALUE ? null : { value };
}

export function isLiteral(text: string, node: PyNode): boolean {
  return evaluate(text, node) !== NO_VALUE;
}

function recordImports(statement: PyNode, text: string, imports: Map<string, string>): void {
  const parts = childrenOf(statement);
  if (parts[0]?.name === 'import') {
    recordImportList(parts.slice(1), text, imports, '');
    return;
  }
  const importAt = parts.findIndex((part) => part.name === 'import');
  if (importAt === -1) return;
  const from = parts
    .slice(1, importAt)
    .map((part) => textOf(text, part))
    .join('');
  recordImportList(parts.slice(importAt + 1), text, imports, from);
}

/** `a.b as c, d` after `import`, or the names after `from x import`. */
function recordImportList(parts: PyNode[], text: string, imports: Map<string, string>, from: string): void {
  let dotted: string[] = [];
  let alias: string | null = null;
  let expectAlias = false;
  const flush = () => {
    if (dotted.length > 0) {
      const full = dotted.join('.');
      const qualified = from === '' ? full : `${from}${from.endsWith('.') ? '' : '.'}${full}`;
      if (alias !== null) imports.set(alias, qualified);
      else if (from === '') imports.set(dotted[0]!, dotted[0]!);
      else imports.set(full, qualified);
    }
    dotted = [];
    alias = null;
    expectAlias = false;
  };
  for (const part of parts) {
    if (part.name === ',') flush();
    else if (part.name === 'as') expectAlias = true;
    else if (part.name === 'VariableName') {
      if (expectAlias) alias = textOf(text, part);
      else dotted.push(textOf(text, part));
    }
  }
  flush();
}

const COMPOUND_WITH_BODIES = new Set([
  'IfStatement',
  'TryStatement',
  'WithStatement',
  'ForStatement',
  'WhileStatement',
]);

/** Statements that run when the module is imported: top level and inside if/try/with/for blocks. */
export function moduleLevelStatements(top: PyNode): PyNode[] {
  const statements: PyNode[] = [];
  const visit = (container: PyNode) => {
    for (let child = container.firstChild; child; child = child.nextSibling) {
      if (!child.type.is('Statement')) continue;
      if (COMPOUND_WITH_BODIES.has(child.name)) {
        for (const body of child.getChildren('Body')) visit(body);
      } else if (child.name === 'StatementGroup') {
        visit(child);
      } else {
        statements.push(child);
      }
    }
  };
  visit(top);
  return statements;
}

/** The first statement of a file (its docstring included), or null for an empty file. */
export function firstStatementOf(top: PyNode): PyNode | null {
  for (let child = top.firstChild; child; child = child.nextSibling) {
    if (child.type.is('Statement')) return child;
  }
  return null;
}

/** The nearest enclosing function, or the module itself. */
export function enclosingScope(node: PyNode): PyNode {
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (parent.name === 'FunctionDefinition' || parent.name === 'Script') return parent;
  }
  return node;
}

/** Calls `visit` for every node under `node` without entering nested function or class bodies. */
export function walkScope(node: PyNode, visit: (inner: PyNode) => void): void {
  for (let child = node.firstChild; child; child = child.nextSibling) {
    visit(child);
    if (child.name === 'FunctionDefinition' || child.name === 'ClassDefinition') continue;
    walkScope(child, visit);
  }
}

/** Calls `visit` for every node under `node`, depth first. */
export function forEachDescendant(node: PyNode, visit: (inner: PyNode) => void): void {
  for (let child = node.firstChild; child; child = child.nextSibling) {
    visit(child);
    forEachDescendant(child, visit);
  }
}

/** True when `request.user` (or `self.request.user`) appears anywhere under the node. */
export function mentionsRequestUser(text: string, node: PyNode): boolean {
  let found = false;
  forEachDescendant(node, (inner) => {
    if (found || inner.name !== 'MemberExpression') return;
    const name = dottedName(text, inner);
    if (name === 'request.user' || name === 'self.request.user') found = true;
  });
  return found;
}
