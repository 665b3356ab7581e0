import { argumentAt, callParts, dottedName, type PythonModule, qualifiedName, textOf } from '../python';
import { resolvesToLiteral } from '../scope';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

/** Calls that always hand their first argument to a shell or the interpreter. */
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
function isBuiltinCall(module: PythonModule, name: string): boolean {
  return CODE_BUILTINS.has(name) && !module.definedNames.has(name) && !module.imports.has(name);
}

export const commandInjectionRule: PythonRule = (module, scopes) => {
  const hits: RuleHit[] = [];
  for (const call of module.calls) {
    const parts = callParts(module.text, call);
    if (!parts) continue;
    const written = dottedName(module.text, parts.callee);
    const name = qualifiedName(module, parts.callee);
    if (written === null || name === null) continue;
    const command = argumentAt(parts.args, 0, 'args') ?? parts.args.keywords.get('cmd');
    if (!command || resolvesToLiteral(module, scopes, command)) continue;
    if (isBuiltinCall(module, written)) {
      hits.push({
        id: 'code.command-injection',
        at: call.from,
        detail: `${written}() runs code built at run time.`,
      });
    } else if (ALWAYS_SHELL.has(name)) {
      hits.push({
        id: 'code.command-injection',
        at: call.from,
        detail: `${name}() passes a non-literal command line to the shell.`,
      });
    } else if (SHELL_OPTIONAL.has(name)) {
      const shell = parts.args.keywords.get('shell');
      if (shell && textOf(module.text, shell) === 'True') {
        hits.push({
          id: 'code.command-injection',
          at: call.from,
          detail: `${name}(…, shell=True) passes a non-literal command line to the shell.`,
        });
      }
    }
  }
  return hits;
};
