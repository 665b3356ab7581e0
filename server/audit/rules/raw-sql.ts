import {
  argumentAt,
  childrenOf,
  dottedName,
  lastSegment,
  type PyCall,
  type PyNode,
  type PythonModule,
  textOf,
} from '../python';
import { resolvesToLiteral, type Scopes } from '../scope';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

/** `.extra()` arguments that are SQL (params and select_params are the safe ones). */
const EXTRA_SQL_ARGUMENTS: ReadonlyArray<readonly [number, string]> = [
  [0, 'select'],
  [1, 'where'],
  [3, 'tables'],
  [4, 'order_by'],
];

/** How a query string was put together, or null when it is not built from pieces. */
export function howBuilt(
  module: PythonModule,
  scopes: Scopes,
  node: PyNode,
  seen = new Set<number>(),
): string | null {
  const { text } = module;
  if (resolvesToLiteral(module, scopes, node)) return null;
  switch (node.name) {
    case 'FormatString':
      return 'an f-string';
    case 'ContinuedString':
      return childrenOf(node).some((part) => part.name === 'FormatString') ? 'an f-string' : null;
    case 'BinaryExpression': {
      const operator = node.getChild('ArithOp');
      const symbol = operator ? textOf(text, operator) : '';
      if (symbol === '%') return '% formatting';
      if (symbol === '+') return '+ concatenation';
      return null;
    }
    case 'ParenthesizedExpression': {
      const inner = childrenOf(node).find((child) => child.name !== '(' && child.name !== ')');
      return inner ? howBuilt(module, scopes, inner, seen) : null;
    }
    case 'ConditionalExpression':
      for (const branch of childrenOf(node)) {
        const how = howBuilt(module, scopes, branch, seen);
        if (how) return how;
      }
      return null;
    case 'CallExpression': {
      const callee = node.firstChild;
      const method = callee?.name === 'MemberExpression' ? callee.lastChild : null;
      const name = method?.name === 'PropertyName' ? textOf(text, method) : '';
      return name === 'format' || name === 'join' ? `.${name}()` : null;
    }
    case 'VariableName':
      return howBuiltLocal(module, scopes, node, seen);
    default:
      return null;
  }
}

/** A local is built when an earlier assignment in the same function built it. */
function howBuiltLocal(module: PythonModule, scopes: Scopes, node: PyNode, seen: Set<number>): string | null {
  for (const binding of scopes.bindingsBefore(node, textOf(module.text, node))) {
    if (!binding.value || seen.has(binding.boundFrom)) continue;
    seen.add(binding.boundFrom);
    if (binding.operator === '+=' && !resolvesToLiteral(module, scopes, binding.value))
      return '+= concatenation';
    if (binding.operator === '%=') return '% formatting';
    const how = howBuilt(module, scopes, binding.value, seen);
    if (how) return how;
  }
  return null;
}

/** Names that hold a cursor: `with connection.cursor() as c`, `c = connection.cursor()`, or called so. */
function isCursor(module: PythonModule, scopes: Scopes, receiver: PyNode, depth = 0): boolean {
  if (receiver.name === 'CallExpression') {
    const callee = receiver.firstChild;
    const name = callee ? dottedName(module.text, callee) : null;
    return name !== null && lastSegment(name) === 'cursor';
  }
  const name = dottedName(module.text, receiver);
  if (name === null) return false;
  const last = lastSegment(name).toLowerCase();
  if (last.includes('cursor') || last === 'cur') return true;
  if (depth > 4) return false;
  return scopes
    .bindingsBefore(receiver, name)
    .some((binding) => binding.value && isCursor(module, scopes, binding.value, depth + 1));
}

interface SqlSink {
  label: string;
  queries: PyNode[];
}

function sqlSinkOf(module: PythonModule, scopes: Scopes, call: PyCall): SqlSink | null {
  const { args, callee, method } = call;
  const present = (nodes: Array<PyNode | undefined>) => nodes.filter((node) => node !== undefined);
  if (method === 'RawSQL') return { label: 'RawSQL()', queries: present([argumentAt(args, 0, 'sql')]) };
  if (callee.name !== 'MemberExpression') return null;
  if (method === 'raw') return { label: '.raw()', queries: present([argumentAt(args, 0, 'raw_query')]) };
  if (method === 'extra') {
    const queries = EXTRA_SQL_ARGUMENTS.map(([index, keyword]) => argumentAt(args, index, keyword));
    return { label: '.extra()', queries: present(queries).flatMap(sqlPiecesOf) };
  }
  const receiver = callee.firstChild;
  if ((method === 'execute' || method === 'executemany') && receiver && isCursor(module, scopes, receiver)) {
    return {
      label: `cursor.${method}()`,
      queries: present([argumentAt(args, 0, 'sql') ?? args.keywords.get('operation')]),
    };
  }
  return null;
}

/** `.extra(where=[…], select={…})` holds its SQL inside lists and dicts. */
function sqlPiecesOf(node: PyNode): PyNode[] {
  if (node.name === 'ArrayExpression' || node.name === 'TupleExpression') {
    return childrenOf(node).filter((child) => !['[', ']', '(', ')', ','].includes(child.name));
  }
  if (node.name === 'DictionaryExpression') {
    const parts = childrenOf(node);
    return parts.filter((_, index) => parts[index - 1]?.name === ':');
  }
  return [node];
}

const SINK_METHODS = new Set(['RawSQL', 'raw', 'extra', 'execute', 'executemany']);

export const rawSqlRule: PythonRule = (module, scopes) => {
  const hits: RuleHit[] = [];
  for (const call of module.calls) {
    if (!SINK_METHODS.has(call.method)) continue;
    const sink = sqlSinkOf(module, scopes, call);
    if (!sink) continue;
    for (const query of sink.queries) {
      const how = howBuilt(module, scopes, query);
      if (!how) continue;
      hits.push({
        id: 'code.raw-sql',
        at: call.node.from,
        detail: `${sink.label} runs SQL built with ${how}; a value spliced into it can change the query.`,
      });
      break;
    }
  }
  return hits;
};
