import {
  argumentsOf,
  childrenOf,
  dottedName,
  lastSegment,
  literalValue,
  type PyNode,
  type PythonModule,
  textOf,
} from '../python';
import type { RuleHit } from '../types';
import type { PythonRule } from './rule';

/** Classes whose Meta.fields decides which model fields a client may write. */
const MODEL_FORMS = new Set(['ModelForm', 'ModelSerializer', 'HyperlinkedModelSerializer']);
/** Generic views that build a ModelForm from their own `fields`. */
const EDIT_VIEWS = new Set(['CreateView', 'UpdateView']);
const FORM_FACTORIES = new Set(['modelform_factory', 'modelformset_factory', 'inlineformset_factory']);

type Kind = 'form' | 'view';

function baseNames(module: PythonModule, cls: PyNode): string[] {
  const { positional } = argumentsOf(module.text, cls.getChild('ArgList'));
  return positional
    .map((base) => dottedName(module.text, base))
    .flatMap((name) => (name ? [lastSegment(name)] : []));
}

/** Form/serializer/view classes of this file, following subclasses of local classes. */
function classKinds(module: PythonModule): Map<string, Kind> {
  const classes = module.classes.flatMap((cls) => {
    const nameNode = cls.getChild('VariableName');
    return nameNode ? [{ name: textOf(module.text, nameNode), bases: baseNames(module, cls) }] : [];
  });
  const kinds = new Map<string, Kind>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const { name, bases } of classes) {
      if (kinds.has(name)) continue;
      for (const base of bases) {
        const kind: Kind | undefined = MODEL_FORMS.has(base)
          ? 'form'
          : EDIT_VIEWS.has(base)
            ? 'view'
            : kinds.get(base);
        if (kind) {
          kinds.set(name, kind);
          changed = true;
          break;
        }
      }
    }
  }
  return kinds;
}

/** `name = value` statements directly in a class body. */
function classAssignments(
  module: PythonModule,
  cls: PyNode,
): Array<{ name: string; value: PyNode; at: number }> {
  const body = cls.getChild('Body');
  if (!body) return [];
  return body.getChildren('AssignStatement').flatMap((statement) => {
    const [target, operator, value] = childrenOf(statement);
    if (target?.name !== 'VariableName' || operator?.name !== 'AssignOp' || !value) return [];
    return [{ name: textOf(module.text, target), value, at: statement.from }];
  });
}

function fieldsHits(module: PythonModule, cls: PyNode, owner: string, allowExclude: boolean): RuleHit[] {
  return classAssignments(module, cls).flatMap(({ name, value, at }): RuleHit[] => {
    if (name === 'fields' && literalValue(module.text, value)?.value === '__all__') {
      return [
        {
          id: 'code.mass-assignment',
          at,
          detail: `${owner} accepts every model field (fields = "__all__").`,
        },
      ];
    }
    if (name === 'exclude' && allowExclude) {
      return [
        {
          id: 'code.mass-assignment',
          at,
          detail: `${owner} uses exclude, so every other model field, including ones added later, is writable.`,
        },
      ];
    }
    return [];
  });
}

export const massAssignmentRule: PythonRule = (module) => {
  const kinds = classKinds(module);
  const hits: RuleHit[] = [];
  for (const cls of module.classes) {
    const nameNode = cls.getChild('VariableName');
    const name = nameNode ? textOf(module.text, nameNode) : '';
    const kind = kinds.get(name);
    if (kind === 'view') hits.push(...fieldsHits(module, cls, name, false));
    if (kind !== 'form') continue;
    const meta = cls
      .getChild('Body')
      ?.getChildren('ClassDefinition')
      .find((inner) => {
        const innerName = inner.getChild('VariableName');
        return innerName !== null && textOf(module.text, innerName) === 'Meta';
      });
    if (meta) hits.push(...fieldsHits(module, meta, name, true));
  }
  for (const call of module.calls) {
    if (!FORM_FACTORIES.has(call.method)) continue;
    const fields = call.args.keywords.get('fields');
    const label = `${call.method}()`;
    if (fields && literalValue(module.text, fields)?.value === '__all__') {
      hits.push({
        id: 'code.mass-assignment',
        at: call.node.from,
        detail: `${label} accepts every model field.`,
      });
    } else if (call.args.keywords.has('exclude')) {
      hits.push({ id: 'code.mass-assignment', at: call.node.from, detail: `${label} uses exclude.` });
    }
  }
  return hits;
};
