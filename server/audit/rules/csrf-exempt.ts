import {
  argumentsOf,
  childrenOf,
  dottedName,
  lastSegment,
  type PyNode,
  type PythonModule,
  textOf,
} from '../python';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

function isCsrfExempt(module: PythonModule, node: PyNode): boolean {
  const name = dottedName(module.text, node);
  return name !== null && lastSegment(name) === 'csrf_exempt';
}

/** The name of the function or class a decorator sits on. */
function decoratedName(module: PythonModule, decorator: PyNode): string {
  const definition =
    decorator.parent?.getChild('FunctionDefinition') ?? decorator.parent?.getChild('ClassDefinition');
  const name = definition?.getChild('VariableName');
  return name ? textOf(module.text, name) : 'the view';
}

/** `@csrf_exempt`, `@decorators.csrf_exempt` or `@method_decorator(csrf_exempt, …)`. */
function decoratorExempts(module: PythonModule, decorator: PyNode): boolean {
  const parts = childrenOf(decorator).filter((part) => part.name !== 'At' && part.name !== '.');
  const argList = decorator.getChild('ArgList');
  const names = parts.filter((part) => part.name === 'VariableName').map((part) => textOf(module.text, part));
  if (names.at(-1) === 'csrf_exempt') return true;
  if (names.at(-1) !== 'method_decorator' || !argList) return false;
  const [first] = argumentsOf(module.text, argList).positional;
  if (!first) return false;
  if (first.name === 'ArrayExpression' || first.name === 'TupleExpression') {
    return childrenOf(first).some((item) => isCsrfExempt(module, item));
  }
  return isCsrfExempt(module, first);
}

export const csrfExemptRule: PythonRule = (module) => {
  const hits: RuleHit[] = [];
  for (const decorator of module.decorators) {
    if (!decoratorExempts(module, decorator)) continue;
    hits.push({
      id: 'code.csrf-exempt',
      at: decorator.from,
      detail: `${decoratedName(module, decorator)} is exempt from CSRF protection.`,
    });
  }
  for (const call of module.calls) {
    if (call.method !== 'csrf_exempt' || call.written === null) continue;
    const [view] = call.args.positional;
    hits.push({
      id: 'code.csrf-exempt',
      at: call.node.from,
      detail: `${view ? textOf(module.text, view) : 'A view'} is wrapped in csrf_exempt() and gets no CSRF protection.`,
    });
  }
  return hits;
};
