import { commandInjectionRule } from './command-injection';
import { csrfExemptRule } from './csrf-exempt';
import { deserializationRule } from './deserialization';
import { idorRule } from './idor';
import { markSafeRule } from './mark-safe';
import { massAssignmentRule } from './mass-assignment';
import { openRedirectRule } from './open-redirect';
import { rawSqlRule } from './raw-sql';
import type { PythonRule } from './rule';

/** Every code check run on each Python file. */
export const PYTHON_RULES: readonly PythonRule[] = [
  rawSqlRule,
  markSafeRule,
  massAssignmentRule,
  csrfExemptRule,
  idorRule,
  deserializationRule,
  openRedirectRule,
  commandInjectionRule,
];
