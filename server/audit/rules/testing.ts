import { lineStarts, positionAt } from '../finding';
import { parsePython } from '../python';
import { scopesOf } from '../scope';
import type { PythonRule } from './rule';

/** Runs one rule over a snippet and returns `line:column` of each hit, for exact assertions. */
export function hitsOf(rule: PythonRule, source: string): string[] {
  const module = parsePython('snippet.py', source);
  const starts = lineStarts(source);
  return rule(module, scopesOf(module)).map((hit) => {
    const { line, column } = positionAt(starts, hit.at);
    return `${line}:${column}`;
  });
}
