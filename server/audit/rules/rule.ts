import type { PythonModule } from '../python';
import type { Scopes } from '../scope';
import type { RuleHit } from '../types';

/** A code check: one parsed file in, what it saw out. Pure. */
export type PythonRule = (module: PythonModule, scopes: Scopes) => RuleHit[];
