import {
  argumentAt,
  childrenOf,
  dottedName,
  enclosingScope,
  forEachDescendant,
  lastSegment,
  type PyCall,
  type PyNode,
  type PythonModule,
  qualifiedName,
  textOf,
} from '../python';
import type { Scopes } from '../scope';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

/** Parts of the request an attacker writes. */
const REQUEST_DATA = new Set([
  'GET',
  'POST',
  'REQUEST',
  'META',
  'COOKIES',
  'headers',
  'body',
  'data',
  'query_params',
]);

/** Calls that pass a string through unchanged for redirect purposes. */
const PASS_THROUGH = new Set(['str', 'unquote', 'unquote_plus', 'strip', 'get', 'getlist', 'pop']);

const REDIRECTS = new Set(['HttpResponseRedirect', 'HttpResponsePermanentRedirect']);
const URL_CHECKS = new Set(['url_has_allowed_host_and_scheme', 'is_safe_url']);

function isRequestData(text: string, node: PyNode): boolean {
  const name = dottedName(text, node);
  if (name === null) return false;
  const parts = name.split('.');
  const start = parts[0] === 'self' ? 1 : 0;
  return parts[start] === 'request' && parts.length > start + 1 && REQUEST_DATA.has(parts[start + 1]!);
}

/** Whether the expression carries a request value to where it is used (directly or through a local). */
export function flowsFromRequest(module: PythonModule, scopes: Scopes, node: PyNode, depth = 0): boolean {
  if (depth > 6) return false;
  const next = (inner: PyNode) => flowsFromRequest(module, scopes, inner, depth + 1);
  const { text } = module;
  switch (node.name) {
    case 'MemberExpression':
      return isRequestData(text, node) || (node.firstChild !== null && next(node.firstChild));
    case 'CallExpression': {
      const callee = node.firstChild;
      if (!callee) return false;
      if (callee.name === 'MemberExpression') {
        const method = callee.lastChild;
        return method !== null && PASS_THROUGH.has(textOf(text, method)) && callee.firstChild !== null
          ? next(callee.firstChild)
          : false;
      }
      const name = qualifiedName(module, callee);
      const [first] = childrenOf(node.getChild('ArgList') ?? node).filter((part) => part.name !== '(');
      return name !== null && PASS_THROUGH.has(lastSegment(name)) && first !== undefined && next(first);
    }
    case 'BinaryExpression': {
      const [left, operator, right] = childrenOf(node);
      if (!left || !operator || !right) return false;
      const op = textOf(text, operator);
      if (op === 'or' || op === 'and') return next(left) || next(right);
      return op === '+' && next(left);
    }
    case 'ConditionalExpression':
      return childrenOf(node).some((part, index) => index !== 2 && next(part));
    case 'ParenthesizedExpression':
      return childrenOf(node).some((part) => next(part));
    case 'FormatString': {
      const [first] = childrenOf(node);
      return (
        first?.name === 'FormatReplacement' && first.from === node.from + 2 && childrenOf(first).some(next)
      );
    }
    case 'VariableName':
      return scopes
        .bindingsBefore(node, textOf(text, node))
        .some((binding) => binding.value !== null && next(binding.value));
    default:
      return false;
  }
}

function checksUrl(module: PythonModule, scope: PyNode): boolean {
  let found = false;
  forEachDescendant(scope, (node) => {
    if (found || node.name !== 'CallExpression' || !node.firstChild) return;
    const name = dottedName(module.text, node.firstChild);
    if (name !== null && URL_CHECKS.has(lastSegment(name))) found = true;
  });
  return found;
}

/** `redirect(x)` from django.shortcuts (not some object's .redirect()) or the redirect responses. */
function isRedirect(call: PyCall): boolean {
  const name = call.qualified;
  if (name === null) return false;
  if (REDIRECTS.has(call.method)) return true;
  return call.method === 'redirect' && (name === 'redirect' || name.endsWith('shortcuts.redirect'));
}

export const openRedirectRule: PythonRule = (module, scopes) => {
  const hits: RuleHit[] = [];
  for (const call of module.calls) {
    if (!isRedirect(call)) continue;
    const target = argumentAt(call.args, 0, 'to') ?? call.args.keywords.get('redirect_to');
    if (!target || !flowsFromRequest(module, scopes, target)) continue;
    if (checksUrl(module, enclosingScope(call.node))) continue;
    hits.push({
      id: 'code.open-redirect',
      at: call.node.from,
      detail: `Redirects to ${textOf(module.text, target).slice(0, 60)}, a value from the request, without url_has_allowed_host_and_scheme().`,
    });
  }
  return hits;
};
