import { makeFinding } from '../catalogue';
import type { Finding } from '../types';
import { httpsDown, looksLikeHtml } from './http';
import { clip, errored, judged, type ScanCheck, skipped } from './outcome';

/** What a served secret file looks like; null when the body is not that file (a soft 404, a catch-all page). */
type Verifier = (body: string) => string | null;

const MAX_KEYS_SHOWN = 8;

const ENV_LINE = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=/;

/** `.env`: KEY=value lines and no HTML. Only key names are shown, never values. */
export const verifyEnvFile: Verifier = (body) => {
  if (looksLikeHtml(body)) return null;
  const keys = body.split(/\r?\n/).flatMap((line) => ENV_LINE.exec(line)?.[1] ?? []);
  if (keys.length === 0) return null;
  const unique = [...new Set(keys)];
  const shown = unique.slice(0, MAX_KEYS_SHOWN).join(', ');
  return `keys: ${shown}${unique.length > MAX_KEYS_SHOWN ? `, … (${unique.length} keys)` : ''}`;
};

/** `.git/HEAD`: a symbolic ref or a bare commit id (SHA-1 or SHA-256) on its first line. */
export const verifyGitHead: Verifier = (body) => {
  const first = body.split(/\r?\n/)[0]!.trim();
  const ref = /^ref: (refs\/[\w./-]+)$/.exec(first);
  if (ref) return `ref: ${ref[1]}`;
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(first) ? 'a detached commit id' : null;
};

/** `.git/config`: an ini file with a [core] section. Section names only: a remote URL may hold a token. */
export const verifyGitConfig: Verifier = (body) => {
  if (looksLikeHtml(body) || !/^[ \t]*\[core\][ \t]*\r?$/m.test(body)) return null;
  const sections = [...body.matchAll(/^[ \t]*\[([^\]\r\n]{1,60})\][ \t]*\r?$/gm)].map(
    (match) => `[${match[1]}]`,
  );
  return `sections: ${[...new Set(sections)].slice(0, MAX_KEYS_SHOWN).join(', ')}`;
};

function verifierFor(path: string): Verifier | null {
  if (/^\/\.env(?:\.[\w-]+)*$/.test(path)) return verifyEnvFile;
  if (path === '/.git/HEAD') return verifyGitHead;
  if (path === '/.git/config') return verifyGitConfig;
  return null;
}

export const exposureCheck: ScanCheck = {
  id: 'exposure',
  findingIds: ['exposure.file'],
  run(facts) {
    const down = httpsDown(facts);
    if (down) return down;
    const paths = Object.keys(facts.files).sort();
    if (paths.length === 0) return skipped('no files probed');
    const findings: Finding[] = [];
    let answered = 0;
    for (const path of paths) {
      const response = facts.files[path]!.responses[0];
      if (response) answered++;
      const verify = verifierFor(path);
      if (response?.status !== 200 || !verify) continue;
      const seen = verify(response.body);
      if (seen !== null)
        findings.push(makeFinding('exposure.file', { evidence: clip(`GET ${path} → 200; ${seen}`, 300) }));
    }
    if (answered === 0) return errored('none of the file probes got an answer');
    const detail =
      findings.length > 0
        ? `served: ${findings.length} of ${paths.length} probed files`
        : `not served: ${paths.join(', ')}`;
    return judged(findings, detail);
  },
};
