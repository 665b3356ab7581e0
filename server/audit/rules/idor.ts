import {
  argumentsOf,
  childrenOf,
  dottedName,
  enclosingScope,
  lastSegment,
  mentionsRequestUser,
  type PyCall,
  type PyNode,
  type PythonModule,
  textOf,
} from '../python';
import type { Scopes } from '../scope';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

const ID_KEYWORDS = ['pk', 'id'];

/** What a view receives from its URL: named parameters after `request`, and the `**kwargs` dict. */
interface UrlInputs {
  names: Set<string>;
  containers: Set<string>;
}

/** The URL inputs of a view function or method; null when the function is not a view. */
function urlInputsOf(module: PythonModule, fn: PyNode): UrlInputs | null {
  const params = fn.getChild('ParamList');
  if (!params) return null;
  const names: string[] = [];
  const containers = new Set<string>(['self.kwargs']);
  let marker = '';
  for (const part of childrenOf(params)) {
    if (part.name === '*' || part.name === '**') marker = part.name;
    else if (part.name === ',') marker = '';
    else if (part.name === 'VariableName') {
      if (marker === '**') containers.add(textOf(module.text, part));
      else if (marker === '') names.push(textOf(module.text, part));
    }
  }
  const requestAt = names[0] === 'self' ? 1 : 0;
  const isView = names[requestAt] === 'request';
  if (!isView && names[0] !== 'self') return null;
  return { names: new Set(isView ? names.slice(requestAt + 1) : []), containers };
}

/** `pk`, `kwargs["pk"]`, `self.kwargs.get("pk")`, or a local assigned from one of them. */
function comesFromUrl(
  module: PythonModule,
  scopes: Scopes,
  inputs: UrlInputs,
  node: PyNode,
  depth = 0,
): boolean {
  const { text } = module;
  if (node.name === 'VariableName') {
    const name = textOf(text, node);
    const bindings = scopes.bindingsBefore(node, name);
    if (bindings.length === 0) return inputs.names.has(name);
    return (
      depth < 4 &&
      bindings.some(
        (binding) => binding.value && comesFromUrl(module, scopes, inputs, binding.value, depth + 1),
      )
    );
  }
  if (node.name === 'MemberExpression' && node.getChild('[')) {
    const container = node.firstChild ? dottedName(text, node.firstChild) : null;
    return container !== null && inputs.containers.has(container);
  }
  if (node.name === 'CallExpression') {
    const callee = node.firstChild;
    if (callee?.name === 'MemberExpression' && callee.lastChild && textOf(text, callee.lastChild) === 'get') {
      const container = callee.firstChild ? dottedName(text, callee.firstChild) : null;
      return container !== null && inputs.containers.has(container);
    }
    const name = callee ? dottedName(text, callee) : null;
    const [first] = argumentsOf(text, node.getChild('ArgList')).positional;
    return name === 'int' && first !== undefined && comesFromUrl(module, scopes, inputs, first, depth + 1);
  }
  return false;
}

/** `Model.objects.get(…)` or `get_object_or_404(Model, …)`: a lookup straight on the model, unscoped. */
function isModelLookup(module: PythonModule, call: PyCall): boolean {
  const { callee, method } = call;
  if (method === 'get' && callee.name === 'MemberExpression') {
    const manager = callee.firstChild ? dottedName(module.text, callee.firstChild) : null;
    return manager !== null && (manager.endsWith('.objects') || manager.endsWith('._default_manager'));
  }
  const [model] = method === 'get_object_or_404' ? call.args.positional : [];
  const modelName = model ? dottedName(module.text, model) : null;
  return modelName !== null && /^[A-Z]/.test(lastSegment(modelName));
}

export const idorRule: PythonRule = (module, scopes) => {
  const hits: RuleHit[] = [];
  const inputsByFunction = new Map<number, UrlInputs | null>();
  const userChecked = new Map<number, boolean>();
  for (const call of module.calls) {
    if (call.method !== 'get' && call.method !== 'get_object_or_404') continue;
    const fn = enclosingScope(call.node);
    if (fn.name !== 'FunctionDefinition' || !isModelLookup(module, call)) continue;
    if (!inputsByFunction.has(fn.from)) inputsByFunction.set(fn.from, urlInputsOf(module, fn));
    const inputs = inputsByFunction.get(fn.from);
    if (!inputs) continue;
    const keyword = ID_KEYWORDS.find((name) => {
      const value = call.args.keywords.get(name);
      return value !== undefined && comesFromUrl(module, scopes, inputs, value);
    });
    if (!keyword) continue;
    if (!userChecked.has(fn.from)) userChecked.set(fn.from, mentionsRequestUser(module.text, fn));
    if (userChecked.get(fn.from)) continue;
    hits.push({
      id: 'code.idor',
      at: call.node.from,
      detail: `Review: fetches an object by ${keyword}= from the URL and never looks at request.user; check that users can only reach their own objects.`,
    });
  }
  return hits;
};
