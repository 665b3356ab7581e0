import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';
import { mapConcurrent } from '../map-concurrent';
import { auditEntries } from './catalogue-entries';
import { globMatcher, loadAuditConfig } from './config';
import { lineStarts, locateHit, positionAt } from './finding';
import { parsePython, textOf } from './python';
import { PYTHON_RULES } from './rules';
import { scopesOf } from './scope';
import { type SettingsFacts, settingsFactsOf } from './settings/facts';
import { buildModuleIndex, findSettingsModules } from './settings/project';
import { settingsHits } from './settings/rules';
import { isSuppressed, parseSuppression, type Suppression } from './suppression';
import { templateSafeHits, tokenizeTemplate } from './template';
import type { AuditFinding, AuditNote, AuditOptions, AuditReport, RuleHit } from './types';
import { listProjectFiles, MAX_FILE_BYTES, type ProjectFile } from './walk';

const READ_CONCURRENCY = 32;

/** What auditing one file leaves behind for the project-wide steps. */
interface FileResult {
  findings: AuditFinding[];
  notes: AuditNote[];
  suppressions: Suppression[];
  /** Settings facts and the text to locate settings findings in, for files that set anything. */
  settings: { facts: SettingsFacts; text: string; starts: number[] } | null;
  scanned: boolean;
}

function suppressionsIn(
  file: string,
  text: string,
  starts: readonly number[],
  comments: ReadonlyArray<{ text: string; at: number }>,
): { suppressions: Suppression[]; notes: AuditNote[] } {
  const suppressions: Suppression[] = [];
  const notes: AuditNote[] = [];
  for (const comment of comments) {
    if (!comment.text.includes('vigil:')) continue;
    const { line } = positionAt(starts, comment.at);
    const ownLine = text.slice(starts[line - 1] ?? 0, comment.at).trim() === '';
    const parsed = parseSuppression(comment.text, { file, line, ownLine });
    if (parsed.suppression) suppressions.push(parsed.suppression);
    notes.push(...parsed.notes);
  }
  return { suppressions, notes };
}

function auditPython(file: ProjectFile, text: string): FileResult {
  const module = parsePython(file.relative, text);
  const starts = lineStarts(text);
  const scopes = scopesOf(module);
  const hits: RuleHit[] = PYTHON_RULES.flatMap((rule) => rule(module, scopes));
  const comments = module.comments.map((node) => ({ text: textOf(text, node), at: node.from }));
  const { suppressions, notes } = suppressionsIn(file.relative, text, starts, comments);
  if (module.firstErrorAt !== null) {
    const { line } = positionAt(starts, module.firstErrorAt);
    notes.push({
      kind: 'parse-error',
      file: file.relative,
      line,
      message: 'syntax error; findings for this file may be incomplete',
    });
  }
  const facts = settingsFactsOf(module);
  const setsAnything = facts.events.length > 0 || facts.settingsModuleRefs.length > 0;
  return {
    findings: hits.map((hit) => locateHit(file.relative, text, starts, hit, facts.secretRanges)),
    notes,
    suppressions,
    settings: setsAnything ? { facts, text, starts } : null,
    scanned: true,
  };
}

/** A template under templates/, or an HTML file elsewhere that has block tags (`{% extends %}`, `{% load %}`…). */
function auditTemplate(file: ProjectFile, text: string): FileResult {
  const tokens = tokenizeTemplate(text);
  const isTemplate = file.kind === 'template' || tokens.some((token) => token.kind === 'block');
  if (!isTemplate) return { findings: [], notes: [], suppressions: [], settings: null, scanned: true };
  const starts = lineStarts(text);
  const comments = tokens
    .filter((token) => token.kind === 'comment')
    .map((token) => ({ text: token.content, at: token.from }));
  const { suppressions, notes } = suppressionsIn(file.relative, text, starts, comments);
  return {
    findings: templateSafeHits(tokens).map((hit) => locateHit(file.relative, text, starts, hit)),
    notes,
    suppressions,
    settings: null,
    scanned: true,
  };
}

function skipped(file: ProjectFile, message: string): FileResult {
  const notes: AuditNote[] = [{ kind: 'skipped', file: file.relative, message }];
  return { findings: [], notes, suppressions: [], settings: null, scanned: false };
}

/** Reads a file unless it is over the size bound (one open, one fstat, one read). */
async function readBounded(file: ProjectFile): Promise<string | { tooBig: number }> {
  const handle = await open(file.absolute, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) return { tooBig: size };
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

async function auditFile(file: ProjectFile): Promise<FileResult> {
  let text: string;
  try {
    const read = await readBounded(file);
    if (typeof read !== 'string')
      return skipped(file, `larger than 1 MiB (${read.tooBig} bytes), not audited`);
    text = read;
  } catch (error) {
    return skipped(file, `could not read: ${(error as Error).message}`);
  }
  if (text.includes('\u0000')) return skipped(file, 'binary file, not audited');
  if (text.charCodeAt(0) === 0xfeff) text = ` ${text.slice(1)}`;
  return file.kind === 'python' ? auditPython(file, text) : auditTemplate(file, text);
}

async function assertDirectory(root: string): Promise<void> {
  const info = await stat(root).catch(() => null);
  if (!info) throw new AppError('invalid_request', `${root}: no such file or directory`);
  if (!info.isDirectory())
    throw new AppError('invalid_request', `${root}: not a directory (vigil audit reads a project folder)`);
}

/** A settings module that sets nothing (an empty DJANGO_SETTINGS_MODULE target) kept no text: read it again. */
async function emptySettingsSource(root: string, file: string) {
  const text = await readFile(path.join(root, file), 'utf8').catch(() => '');
  return { text, starts: lineStarts(text), secretRanges: [] };
}

function compareFindings(left: AuditFinding, right: AuditFinding): number {
  const a = left.location;
  const b = right.location;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || left.id.localeCompare(right.id);
}

/**
 * Audits a Django project's source (SPEC.md "Audit (inside view)"): walks it, runs the code checks on
 * every Python file and template, then the settings checks over the settings modules Django would load.
 * No output; the CLI and the monitor render the report.
 */
export async function auditProject(root: string, options: AuditOptions = {}): Promise<AuditReport> {
  const started = performance.now();
  const auditedAt = new Date().toISOString();
  const absoluteRoot = path.resolve(root);
  await assertDirectory(absoluteRoot);
  const config = await loadAuditConfig(absoluteRoot);
  const disabled = new Set([...config.disable, ...(options.disable ?? [])]);
  for (const id of disabled) {
    if (!Object.hasOwn(auditEntries, id))
      throw new AppError('invalid_request', `unknown finding ID to disable: "${id}"`);
  }
  const excluded = [...config.exclude, ...(options.exclude ?? [])].map(globMatcher);
  const walked = await listProjectFiles(absoluteRoot, {
    includeTests: options.includeTests ?? config.includeTests,
    excluded,
  });

  const results = await mapConcurrent(walked.files, READ_CONCURRENCY, auditFile);
  const notes: AuditNote[] = [...walked.notes];
  const findings: AuditFinding[] = [];
  const suppressions = new Map<string, Suppression[]>();
  const settingsSources = new Map<
    string,
    { text: string; starts: number[]; secretRanges: SettingsFacts['secretRanges'] }
  >();
  const facts = new Map<string, SettingsFacts>();
  results.forEach((result, index) => {
    const file = walked.files[index]!.relative;
    findings.push(...result.findings);
    notes.push(...result.notes);
    if (result.suppressions.length > 0) suppressions.set(file, result.suppressions);
    if (result.settings) {
      facts.set(file, result.settings.facts);
      settingsSources.set(file, { ...result.settings, secretRanges: result.settings.facts.secretRanges });
    }
  });

  const index = buildModuleIndex(
    walked.files.filter((file) => file.kind === 'python').map((file) => file.relative),
  );
  const { leaves } = findSettingsModules(index, facts);
  const fromSettings = settingsHits(index, facts, leaves);
  for (const { file, module } of fromSettings.unknownImports) {
    notes.push({
      kind: 'skipped',
      file,
      message: `star-imports ${module}, which is outside the project; checks for missing settings were skipped`,
    });
  }
  for (const { file, hit } of fromSettings.hits) {
    const source = settingsSources.get(file) ?? (await emptySettingsSource(absoluteRoot, file));
    findings.push(locateHit(file, source.text, source.starts, hit, source.secretRanges));
  }

  const reported = findings
    .filter((finding) => !disabled.has(finding.id))
    .filter((finding) => !isSuppressed(finding, suppressions.get(finding.location.file) ?? []))
    .sort(compareFindings);
  return {
    root: absoluteRoot,
    auditedAt,
    durationMs: Math.round(performance.now() - started),
    filesScanned: results.filter((result) => result.scanned).length,
    findings: reported,
    notes,
  };
}
