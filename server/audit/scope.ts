import {
  childrenOf,
  dottedName,
  enclosingScope,
  isLiteral,
  type PyNode,
  type PythonModule,
  textOf,
  walkScope,
} from './python';

/** One place a name gets a value inside a function (or at module level). */
export interface Binding {
  /** The assigned expression; null when it cannot be told apart (tuple unpacking, for targets). */
  value: PyNode | null;
  /** `=`, an augmented operator such as `+=`, `with` or `for`. */
  operator: string;
  /** Offset from which the name holds the value (the end of the assignment). */
  boundFrom: number;
}

export interface Scopes {
  /** Bindings of `name` in the function (or module) around `node` that come before `node`. */
  bindingsBefore(node: PyNode, name: string): Binding[];
  /** Like bindingsBefore, but a name the function never assigns is looked up at module level. */
  visibleBindings(node: PyNode, name: string): Binding[];
}

/** Lazily indexes assignments per function so the rules can follow a local back to its value. */
export function scopesOf(module: PythonModule): Scopes {
  const byScope = new Map<number, Map<string, Binding[]>>();
  const bindingsIn = (scope: PyNode) => {
    let bindings = byScope.get(scope.from);
    if (!bindings) {
      bindings = collectBindings(module.text, scope);
      byScope.set(scope.from, bindings);
    }
    return bindings;
  };
  return {
    bindingsBefore(node, name) {
      return (bindingsIn(enclosingScope(node)).get(name) ?? []).filter(
        (binding) => binding.boundFrom <= node.from,
      );
    },
    visibleBindings(node, name) {
      const scope = enclosingScope(node);
      const local = bindingsIn(scope).get(name);
      if (local || scope.name === 'Script')
        return (local ?? []).filter((binding) => binding.boundFrom <= node.from);
      return bindingsIn(module.top).get(name) ?? [];
    },
  };
}

function collectBindings(text: string, scope: PyNode): Map<string, Binding[]> {
  const bindings = new Map<string, Binding[]>();
  const bind = (target: PyNode, value: PyNode | null, operator: string, boundFrom: number) => {
    const name = dottedName(text, target);
    if (name === null) return;
    const list = bindings.get(name) ?? [];
    list.push({ value, operator, boundFrom });
    bindings.set(name, list);
  };
  const body = scope.name === 'FunctionDefinition' ? scope.getChild('Body') : scope;
  if (!body) return bindings;
  walkScope(body, (node) => {
    switch (node.name) {
      case 'AssignStatement':
        bindAssignment(node, bind);
        break;
      case 'UpdateStatement': {
        const [target, operator, value] = childrenOf(node);
        if (target && operator && value) bind(target, value, text.slice(operator.from, operator.to), node.to);
        break;
      }
      case 'NamedExpression': {
        const [target, , value] = childrenOf(node);
        if (target && value) bind(target, value, '=', node.to);
        break;
      }
      case 'WithStatement': {
        const parts = childrenOf(node);
        parts.forEach((part, index) => {
          const value = parts[index - 1];
          const target = parts[index + 1];
          if (part.name === 'as' && value && target) bind(target, value, 'with', target.to);
        });
        break;
      }
      case 'ForStatement': {
        const parts = childrenOf(node);
        const inAt = parts.findIndex((part) => part.name === 'in');
        for (const target of parts.slice(1, inAt)) bind(target, null, 'for', target.to);
        break;
      }
    }
  });
  return bindings;
}

/** `a = b = value`, `a, b = x, y`, `a: int = value`. */
function bindAssignment(
  statement: PyNode,
  bind: (target: PyNode, value: PyNode | null, operator: string, boundFrom: number) => void,
): void {
  const segments: PyNode[][] = [[]];
  for (const part of childrenOf(statement)) {
    if (part.name === 'AssignOp') segments.push([]);
    else if (part.name !== 'TypeDef') segments.at(-1)!.push(part);
  }
  if (segments.length < 2) return;
  const values = segments.at(-1)!.filter((part) => part.name !== ',');
  for (const segment of segments.slice(0, -1)) {
    const targets = segment.filter((part) => part.name !== ',');
    targets.forEach((target, index) => {
      bind(target, targets.length === values.length ? (values[index] ?? null) : null, '=', statement.to);
    });
  }
}

const PUNCTUATION = new Set(['(', ')', '[', ']', ',']);

/**
 * A literal, or built only from literals and names that only ever hold such values (`TABLE = "orders"`,
 * `"SELECT * FROM " + TABLE`, `f"{PREFIX}_log"`): nothing from outside can get into it.
 */
export function resolvesToLiteral(module: PythonModule, scopes: Scopes, node: PyNode, depth = 0): boolean {
  if (isLiteral(module.text, node)) return true;
  if (depth > 4) return false;
  const constant = (inner: PyNode) => resolvesToLiteral(module, scopes, inner, depth + 1);
  switch (node.name) {
    case 'VariableName': {
      const bindings = scopes.visibleBindings(node, textOf(module.text, node));
      return (
        bindings.length > 0 &&
        bindings.every(
          (binding) => binding.operator === '=' && binding.value !== null && constant(binding.value),
        )
      );
    }
    case 'BinaryExpression': {
      const [left, operator, right] = childrenOf(node);
      return (
        operator?.name === 'ArithOp' &&
        left !== undefined &&
        right !== undefined &&
        constant(left) &&
        constant(right)
      );
    }
    case 'ParenthesizedExpression':
    case 'TupleExpression':
    case 'ArrayExpression':
      return childrenOf(node).every((part) => PUNCTUATION.has(part.name) || constant(part));
    case 'FormatString':
      return node
        .getChildren('FormatReplacement')
        .every((replacement) =>
          childrenOf(replacement).every((part) => part.name.length === 1 || constant(part)),
        );
    case 'ContinuedString':
      return childrenOf(node).every(constant);
    default:
      return false;
  }
}
