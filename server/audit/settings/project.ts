import type { SettingsFacts } from './facts';

/** Python files by dotted module name (`proj/settings/__init__.py` → `proj.settings`). */
export interface ModuleIndex {
  files: ReadonlySet<string>;
  dotted: ReadonlyMap<string, string>;
}

export function buildModuleIndex(pythonFiles: readonly string[]): ModuleIndex {
  const dotted = new Map<string, string>();
  for (const file of pythonFiles) {
    const withoutExtension = file.slice(0, -'.py'.length);
    const moduleName = withoutExtension.endsWith('/__init__')
      ? withoutExtension.slice(0, -'/__init__'.length)
      : withoutExtension;
    dotted.set(file, moduleName.split('/').join('.'));
  }
  return { files: new Set(pythonFiles), dotted };
}

/** A resolved import: a project file, a project module that does not exist, or code outside the project. */
export type ImportTarget = { kind: 'file'; file: string } | { kind: 'absent' } | { kind: 'external' };

function directoryOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash === -1 ? '' : file.slice(0, slash);
}

function fileFor(index: ModuleIndex, directory: string, modulePath: string): string | null {
  const base = [directory, modulePath].filter(Boolean).join('/');
  for (const candidate of [`${base}.py`, `${base}/__init__.py`]) {
    if (index.files.has(candidate)) return candidate;
  }
  return null;
}

/** Where Python would find `module` imported from `fromFile` (relative `.base` or absolute `a.b`). */
export function resolveModule(index: ModuleIndex, fromFile: string, module: string): ImportTarget {
  const level = module.length - module.replace(/^\.+/, '').length;
  const rest = module.slice(level).split('.').filter(Boolean).join('/');
  if (level > 0) {
    let directory = directoryOf(fromFile);
    for (let up = 1; up < level; up++) directory = directoryOf(directory);
    const file = fileFor(index, directory, rest);
    return file ? { kind: 'file', file } : { kind: 'absent' };
  }
  const local = fileFor(index, directoryOf(fromFile), rest);
  if (local) return { kind: 'file', file: local };
  const candidates = [...index.dotted].filter(([, name]) => name === module || name.endsWith(`.${module}`));
  if (candidates.length > 0) {
    const fromDirectory = directoryOf(fromFile);
    const score = ([file]: readonly [string, string]) => {
      let shared = 0;
      while (shared < file.length && file[shared] === fromDirectory[shared]) shared++;
      return shared * 10_000 - file.length;
    };
    const [best] = candidates.sort((left, right) => score(right) - score(left));
    return { kind: 'file', file: best![0] };
  }
  const head = module.split('.')[0] ?? '';
  const known = [...index.dotted.values()].some((name) => `.${name}.`.includes(`.${head}.`));
  return known ? { kind: 'absent' } : { kind: 'external' };
}

/**
 * The settings modules Django would load: `DJANGO_SETTINGS_MODULE` targets of manage.py/wsgi.py/asgi.py,
 * modules assigning SECRET_KEY or INSTALLED_APPS, and everything they star-import. Leaves are those no
 * other settings module star-imports: they are what a deployment actually runs.
 */
export function findSettingsModules(
  index: ModuleIndex,
  facts: ReadonlyMap<string, SettingsFacts>,
): { modules: string[]; leaves: string[] } {
  const roots = new Set<string>();
  for (const [file, fileFacts] of facts) {
    if (fileFacts.declaresSettings) roots.add(file);
    for (const ref of fileFacts.settingsModuleRefs) {
      const target = resolveModule(index, file, ref);
      if (target.kind === 'file') roots.add(target.file);
    }
  }
  const starImports = (file: string) =>
    (facts.get(file)?.events ?? []).flatMap((event) => {
      if (event.kind !== 'star-import') return [];
      const target = resolveModule(index, file, event.module);
      return target.kind === 'file' && target.file !== file ? [target.file] : [];
    });
  const modules = reachableFrom([...roots], starImports);
  const imported = new Set([...modules].flatMap(starImports));
  const leaves = [...modules].filter((file) => !imported.has(file));
  // A root caught in an import cycle is nobody's base: run it as a leaf too.
  const covered = reachableFrom(leaves, starImports);
  leaves.push(...[...roots].filter((root) => !covered.has(root)));
  return { modules: [...modules].sort(), leaves: [...new Set(leaves)].sort() };
}

function reachableFrom(starts: readonly string[], next: (file: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...starts];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...next(file));
  }
  return seen;
}
