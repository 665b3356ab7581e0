import { argumentAt, type PythonModule, textOf } from '../python';
import { resolvesToLiteral } from '../scope';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

/** Calls that always hand their first argument to a shell. */
const ALWAYS_SHELL = new Set([
  'os.system',
  'os.popen',
  'subprocess.getoutput',
  'subprocess.getstatusoutput',
  'commands.getoutput',
  'asyncio.create_subprocess_shell',
]);

/** Calls that use a shell only with shell=True. */
const SHELL_OPTIONAL = new Set([
  'subprocess.run',
  'subprocess.call',
  'subprocess.check_call',
  'subprocess.check_output',
  'subprocess.Popen',
]);

const CODE_BUILTINS = new Set(['eval', 'exec']);

/** `eval`/`exec` the builtins, not a method or a local definition of that name. */
function isBuiltinCall(module: PythonModule, written: string): boolean {
  return CODE_BUILTINS.has(written) && !module.definedNames.has(written) && !module.imports.has(written);
}

function detailOf(
  module: PythonModule,
  written: string,
  qualified: string,
  shell: string | null,
): string | null {
  if (isBuiltinCall(module, written)) return `${written}() runs code built at run time.`;
  if (ALWAYS_SHELL.has(qualified)) return `${qualified}() passes a non-literal command line to the shell.`;
  if (SHELL_OPTIONAL.has(qualified) && shell === 'True') {
    return `${qualified}(…, shell=True) passes a non-literal command line to the shell.`;
  }
  return null;
}

export const commandInjectionRule: PythonRule = (module, scopes) => {
  const hits: RuleHit[] = [];
  for (const call of module.calls) {
    const { written, qualified } = call;
    if (written === null || qualified === null) continue;
    if (!CODE_BUILTINS.has(written) && !ALWAYS_SHELL.has(qualified) && !SHELL_OPTIONAL.has(qualified))
      continue;
    const shell = call.args.keywords.get('shell');
    const detail = detailOf(module, written, qualified, shell ? textOf(module.text, shell) : null);
    const command = argumentAt(call.args, 0, 'args') ?? call.args.keywords.get('cmd');
    if (!detail || !command || resolvesToLiteral(module, scopes, command)) continue;
    hits.push({ id: 'code.command-injection', at: call.node.from, detail });
  }
  return hits;
};
