import { argumentAt, lastSegment, qualifiedName } from '../python';
import { resolvesToLiteral } from '../scope';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

/** Loaders that build arbitrary objects from their input. */
const UNSAFE_LOADS = new Set([
  'pickle.loads',
  'pickle.load',
  'cPickle.loads',
  'cPickle.load',
  '_pickle.loads',
  '_pickle.load',
  'dill.loads',
  'dill.load',
  'marshal.loads',
  'marshal.load',
  'yaml.unsafe_load',
  'yaml.unsafe_load_all',
]);

const YAML_LOADS = new Set(['yaml.load', 'yaml.load_all']);
const SAFE_YAML_LOADERS = new Set(['SafeLoader', 'CSafeLoader', 'BaseLoader', 'CBaseLoader']);

export const deserializationRule: PythonRule = (module, scopes) => {
  const hits: RuleHit[] = [];
  for (const call of module.calls) {
    const name = call.qualified;
    if (name === null || (!UNSAFE_LOADS.has(name) && !YAML_LOADS.has(name))) continue;
    const data = argumentAt(call.args, 0, 'data') ?? call.args.keywords.get('stream');
    if (!data || resolvesToLiteral(module, scopes, data)) continue;
    if (YAML_LOADS.has(name)) {
      const loader = argumentAt(call.args, 1, 'Loader');
      const loaderName = loader ? qualifiedName(module, loader) : null;
      if (loaderName !== null && SAFE_YAML_LOADERS.has(lastSegment(loaderName))) continue;
    }
    hits.push({
      id: 'code.deserialization',
      at: call.node.from,
      detail: YAML_LOADS.has(name)
        ? `${name}() without SafeLoader can build arbitrary Python objects from the document.`
        : `${name}() can run code chosen by the data.`,
    });
  }
  return hits;
};
