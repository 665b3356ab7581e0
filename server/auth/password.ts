import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Password hashing with scrypt from node:crypto. The stored string names its version and parameters,
 * `$scrypt$v=1$ln=17,r=8,p=1$<salt>$<key>`, so stronger parameters later still verify old hashes
 * (and `needsRehash` upgrades them at the next login).
 */

export interface ScryptParams {
  /** log2 of N, the CPU/memory cost: memory is 128 · N · r bytes. */
  ln: number;
  r: number;
  p: number;
}

/** OWASP's scrypt recommendation: N = 2^17, r = 8, p = 1, i.e. 128 MiB and about half a second per hash. */
export const CURRENT_PARAMS: ScryptParams = { ln: 17, r: 8, p: 1 };
const HASH_VERSION = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** At most this many hashes run at once, so a burst of logins cannot take all memory and both cores. */
const MAX_CONCURRENT_HASHES = 2;

/** A stored hash that never matches: accounts that cannot log in with a password. */
export const UNUSABLE_PASSWORD = '!';

export const PASSWORD_MIN_LENGTH = 12;
/** Long enough for any passphrase, short enough that hashing it costs nothing extra. */
export const PASSWORD_MAX_LENGTH = 1024;

const HASH_PATTERN = /^\$scrypt\$v=(\d+)\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | null {
  const match = HASH_PATTERN.exec(stored);
  if (!match || Number(match[1]) !== HASH_VERSION) return null;
  const params = { ln: Number(match[2]), r: Number(match[3]), p: Number(match[4]) };
  // Refuse parameters no sane hash of ours has: a tampered row must not make verification eat the machine.
  if (params.ln < 10 || params.ln > 20 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16)
    return null;
  const salt = Buffer.from(match[5]!, 'base64url');
  const key = Buffer.from(match[6]!, 'base64url');
  if (salt.length < 16 || key.length < 16) return null;
  return { params, salt, key };
}

let running = 0;
const waiting: (() => void)[] = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/** NFKC, so the same passphrase typed on another keyboard or OS still matches. */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}

function deriveKey(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return withHashSlot(
    () =>
      new Promise<Buffer>((resolve, reject) =>
        scrypt(passwordBytes(password), salt, length, options, (error, key) =>
          error ? reject(error) : resolve(key),
        ),
      ),
  );
}

export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, params, KEY_BYTES);
  return `$scrypt$v=${HASH_VERSION}$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

let dummyHash: Promise<string> | undefined;

/** A hash of a random password, verified against when there is no real one, so both cases take as long. */
function timingDecoy(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(18).toString('base64url'));
  return dummyHash;
}

/**
 * True when `password` matches `stored`. A missing, unusable or malformed hash still costs one full
 * derivation (against a decoy), so the answer time does not tell whether an account exists.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = stored ? parseHash(stored) : null;
  const target = parsed ?? parseHash(await timingDecoy());
  if (!target) throw new Error('the decoy password hash does not parse');
  const key = await deriveKey(password, target.salt, target.params, target.key.length);
  return parsed !== null && timingSafeEqual(key, target.key);
}

/** The hash was made with weaker parameters than today's: store a new one after the next good login. */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const { ln, r, p } = parsed.params;
  return ln !== CURRENT_PARAMS.ln || r !== CURRENT_PARAMS.r || p !== CURRENT_PARAMS.p;
}

let commonPasswords: Set<string> | undefined;

/** The bundled list (common-passwords.txt: one a line, lower case, `#` comments). */
function loadCommonPasswords(): Set<string> {
  commonPasswords ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#')),
  );
  return commonPasswords;
}

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
};

/** Digits and symbols people tack on to satisfy a rule: `password2024!` is still `password`. */
const MAX_TAIL = 6;

/** The spellings of a password to look up: as typed (lower case), de-leeted, and without a short digit/symbol tail. */
export function commonPasswordForms(password: string): string[] {
  const lower = password.normalize('NFKC').toLowerCase();
  const tail = /[\d\W_]+$/u.exec(lower)?.[0] ?? '';
  const forms = new Set([lower]);
  if (tail.length > 0 && tail.length <= MAX_TAIL) forms.add(lower.slice(0, -tail.length));
  for (const form of [...forms]) forms.add(form.replace(/[0134570@$]/g, (char) => LEET[char] ?? char));
  return [...forms].filter((form) => form.length > 0);
}

function isTrivialPattern(password: string): boolean {
  const chars = [...password.toLowerCase()];
  if (new Set(chars).size <= 2) return true;
  // A straight run such as 1234567890ab… or zyxwvu…: every step the same code-point distance of ±1.
  const steps = chars.slice(1).map((char, i) => char.codePointAt(0)! - chars[i]!.codePointAt(0)!);
  return steps.every((step) => step === 1) || steps.every((step) => step === -1);
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(
  password: string,
  personal: { email?: string; name?: string } = {},
): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters`;
  if (isTrivialPattern(password))
    return 'This password is a simple pattern; choose something less predictable';
  const common = loadCommonPasswords();
  if (commonPasswordForms(password).some((form) => common.has(form)))
    return 'This password is on a list of commonly used passwords; choose something less predictable';
  const lower = password.toLowerCase();
  const words = [personal.email?.split('@')[0], personal.email, personal.name]
    .map((word) => word?.replace(/\s+/g, '').toLowerCase() ?? '')
    .filter((word) => word.length >= 4);
  if (words.some((word) => lower.includes(word) && word.length * 2 >= lower.length))
    return 'This password is mostly your name or e-mail address';
  return null;
}
