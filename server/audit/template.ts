import type { RuleHit } from './types';

export type TemplateTokenKind = 'text' | 'variable' | 'block' | 'comment';

export interface TemplateToken {
  kind: TemplateTokenKind;
  /** Inside the delimiters, trimmed (the whole text for text tokens). */
  content: string;
  /** Offset of the opening delimiter. */
  from: number;
  to: number;
}

const CLOSERS: Record<string, { kind: TemplateTokenKind; close: string }> = {
  '{{': { kind: 'variable', close: '}}' },
  '{%': { kind: 'block', close: '%}' },
  '{#': { kind: 'comment', close: '#}' },
};

/**
 * Splits a Django template the way Django's Lexer does: `{{ … }}`, `{% … %}` and `{# … #}` on one
 * line each; everything else is text, so HTML-escaped samples (`&#123;&#123;`) never become tags.
 */
export function tokenizeTemplate(source: string): TemplateToken[] {
  const tokens: TemplateToken[] = [];
  let textFrom = 0;
  let position = source.indexOf('{');
  while (position !== -1 && position < source.length - 1) {
    const opener = CLOSERS[source.slice(position, position + 2)];
    const lineEnd = source.indexOf('\n', position);
    const close = opener ? source.indexOf(opener.close, position + 2) : -1;
    if (!opener || close === -1 || (lineEnd !== -1 && close > lineEnd)) {
      position = source.indexOf('{', position + 1);
      continue;
    }
    if (position > textFrom) {
      tokens.push({ kind: 'text', content: source.slice(textFrom, position), from: textFrom, to: position });
    }
    const to = close + 2;
    tokens.push({ kind: opener.kind, content: source.slice(position + 2, close).trim(), from: position, to });
    textFrom = to;
    position = source.indexOf('{', to);
  }
  if (textFrom < source.length) {
    tokens.push({ kind: 'text', content: source.slice(textFrom), from: textFrom, to: source.length });
  }
  return tokens;
}

/** Splits on `sep` outside quoted strings, as Django's FilterExpression does. */
function splitOutsideQuotes(expression: string, separator: string): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let current = '';
  for (const char of expression) {
    if (quote) {
      if (char === quote) quote = null;
      current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current += char;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function isQuoted(value: string): boolean {
  const trimmed = value.trim();
  return trimmed.length >= 2 && (trimmed[0] === '"' || trimmed[0] === "'") && trimmed.at(-1) === trimmed[0];
}

const UNSAFE_FILTERS = new Set(['safe', 'safeseq']);

/** The unescaping filter in `value|filter:arg|safe`, unless the value is a string literal. */
function unsafeFilterIn(expression: string): string | null {
  const [value, ...filters] = splitOutsideQuotes(expression, '|');
  if (value === undefined || isQuoted(value)) return null;
  for (const filter of filters) {
    const name = splitOutsideQuotes(filter, ':')[0]?.trim() ?? '';
    if (UNSAFE_FILTERS.has(name)) return name;
  }
  return null;
}

/** Block tags whose content Django does not parse as template code. */
const RAW_BLOCKS: Record<string, string> = { verbatim: 'endverbatim', comment: 'endcomment' };

/** The tag name and the rest of a `{% … %}` token. */
function tagParts(content: string): { tag: string; rest: string[] } {
  const [tag = '', ...rest] = splitOutsideQuotes(content, ' ').filter((part) => part !== '');
  return { tag, rest };
}

/** `|safe` and `{% autoescape off %}` in a template (SPEC.md `code.template-safe`). */
export function templateSafeHits(tokens: readonly TemplateToken[]): RuleHit[] {
  const hits: RuleHit[] = [];
  let rawUntil: string | null = null;
  for (const token of tokens) {
    if (token.kind === 'text' || token.kind === 'comment') continue;
    if (token.kind === 'block') {
      const { tag, rest } = tagParts(token.content);
      if (rawUntil !== null) {
        if (tag === rawUntil) rawUntil = null;
        continue;
      }
      const end = RAW_BLOCKS[tag];
      if (end) {
        rawUntil = end;
        continue;
      }
      if (tag === 'autoescape' && rest[0] === 'off') {
        hits.push({
          id: 'code.template-safe',
          at: token.from,
          detail: '{% autoescape off %} prints every variable in the block as raw HTML.',
        });
        continue;
      }
      const filter =
        tag === 'filter' ? unsafeFilterIn(`x|${rest.join(' ')}`) : rest.map(unsafeFilterIn).find(Boolean);
      if (filter) {
        hits.push({
          id: 'code.template-safe',
          at: token.from,
          detail: `The |${filter} filter in {% ${tag} %} turns off escaping for the value.`,
        });
      }
      continue;
    }
    if (rawUntil !== null) continue;
    const filter = unsafeFilterIn(token.content);
    if (filter) {
      hits.push({
        id: 'code.template-safe',
        at: token.from,
        detail: `{{ ${token.content} }} prints the value as raw HTML (|${filter}).`,
      });
    }
  }
  return hits;
}
