import { argumentAt, lastSegment } from '../python';
import { resolvesToLiteral } from '../scope';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

const MARKERS = new Set(['mark_safe', 'SafeString', 'SafeText']);

export const markSafeRule: PythonRule = (module, scopes) => {
  const hits: RuleHit[] = [];
  for (const call of module.calls) {
    if (call.qualified === null) continue;
    const callee = lastSegment(call.qualified);
    if (MARKERS.has(callee)) {
      const value = argumentAt(call.args, 0, 's');
      if (value && !resolvesToLiteral(module, scopes, value)) {
        hits.push({
          id: 'code.mark-safe',
          at: call.node.from,
          detail: `${callee}() marks a computed string as safe HTML, so it is never escaped.`,
        });
      }
    } else if (callee === 'format_html') {
      const format = argumentAt(call.args, 0, 'format_string');
      if (format && !resolvesToLiteral(module, scopes, format)) {
        hits.push({
          id: 'code.mark-safe',
          at: call.node.from,
          detail: 'format_html() with a non-literal format string: whatever is already in it is not escaped.',
        });
      }
    }
  }
  return hits;
};
