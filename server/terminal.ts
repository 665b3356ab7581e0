import { styleText } from 'node:util';
import type { Severity } from './scan/types';

/** Terminal styling shared by the scan and audit reports. */
export type Style = Parameters<typeof styleText>[0];

export const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: ['bold', 'red'],
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'gray',
};

/** Colours text only when the output is a terminal; the caller decides that once. */
export function painter(color: boolean): (style: Style, text: string) => string {
  return (style, text) => (color ? styleText(style, text, { validateStream: false }) : text);
}

export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}
