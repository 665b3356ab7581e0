import type { Dirent } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { AuditNote } from './types';

export const MAX_FILE_BYTES = 1024 * 1024;

/** `html`: an HTML file outside a templates directory, audited only if it turns out to be a template. */
export type ProjectFileKind = 'python' | 'template' | 'html';

export interface ProjectFile {
  /** Relative to the root, forward slashes. */
  relative: string;
  absolute: string;
  kind: ProjectFileKind;
}

export interface WalkOptions {
  includeTests: boolean;
  /** Matchers over root-relative paths (files and directories). */
  excluded: ReadonlyArray<(relativePath: string) => boolean>;
}

/** Directories that never hold the project's own code. */
const SKIPPED_DIRECTORIES = new Set([
  'node_modules',
  '__pycache__',
  'migrations',
  'venv',
  'site-packages',
  'bower_components',
]);
const TEST_DIRECTORIES = new Set(['tests', 'test']);
const TEMPLATE_EXTENSIONS = new Set(['.html', '.htm', '.djhtml', '.txt', '.xml', '.email']);
const HTML_EXTENSIONS = new Set(['.html', '.htm', '.djhtml']);

function isTestFile(name: string): boolean {
  return (
    name === 'tests.py' ||
    name === 'conftest.py' ||
    (name.startsWith('test_') && name.endsWith('.py')) ||
    name.endsWith('_tests.py') ||
    name.endsWith('_test.py')
  );
}

function kindOf(name: string, inTemplates: boolean): ProjectFileKind | null {
  const extension = path.extname(name).toLowerCase();
  if (extension === '.py') return 'python';
  if (inTemplates) return TEMPLATE_EXTENSIONS.has(extension) ? 'template' : null;
  return HTML_EXTENSIONS.has(extension) ? 'html' : null;
}

function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Lists the Python files and templates of a project: skips virtualenvs, node_modules, VCS and cache
 * directories, migrations, tests (unless asked), excluded globs, and symlinks: one out of the root is
 * noted, one inside it is an alias of a file listed at its real place. Directories are read in parallel.
 */
export async function listProjectFiles(
  root: string,
  options: WalkOptions,
): Promise<{ files: ProjectFile[]; notes: AuditNote[] }> {
  const realRoot = await realpath(root);
  const files: ProjectFile[] = [];
  const notes: AuditNote[] = [];
  const isExcluded = (relative: string) => options.excluded.some((matches) => matches(relative));

  const walk = async (directory: string, inTemplates: boolean): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(root, directory), { withFileTypes: true });
    } catch (error) {
      if (directory === '') throw error;
      notes.push({
        kind: 'skipped',
        file: directory,
        message: `could not read directory: ${(error as Error).message}`,
      });
      return;
    }
    if (directory !== '' && entries.some((entry) => entry.name === 'pyvenv.cfg')) return;
    const subdirectories: string[] = [];
    for (const entry of entries) {
      const relative = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (entry.isSymbolicLink()) {
        // A link inside the root is an alias of something listed at its real place; one outside is not ours.
        const target = await realpath(path.join(root, relative)).catch(() => null);
        if (target === null || !isInside(realRoot, target)) {
          notes.push({
            kind: 'skipped',
            file: relative,
            message: 'symbolic link leads outside the audited root',
          });
        }
      } else if (entry.isDirectory()) {
        const skipped =
          SKIPPED_DIRECTORIES.has(entry.name) ||
          entry.name.startsWith('.') ||
          (!options.includeTests && TEST_DIRECTORIES.has(entry.name)) ||
          isExcluded(relative);
        if (!skipped) subdirectories.push(relative);
      } else {
        const kind = entry.isFile() ? kindOf(entry.name, inTemplates) : null;
        if (kind === null || isExcluded(relative)) continue;
        if (!options.includeTests && kind === 'python' && isTestFile(entry.name)) continue;
        files.push({ relative, absolute: path.join(root, relative), kind });
      }
    }
    await Promise.all(
      subdirectories.map((subdirectory) =>
        walk(
          subdirectory,
          inTemplates || subdirectory.endsWith('/templates') || subdirectory === 'templates',
        ),
      ),
    );
  };
  await walk('', false);
  const byPath = <T extends { relative?: string; file?: string }>(left: T, right: T) => {
    const a = left.relative ?? left.file ?? '';
    const b = right.relative ?? right.file ?? '';
    return a < b ? -1 : a > b ? 1 : 0;
  };
  return { files: files.sort(byPath), notes: notes.sort(byPath) };
}
