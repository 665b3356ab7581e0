/**
 * Scan time of one healthy loopback site (the hardened fixture), sequential and eight at a time.
 * Run: npx tsx bench/scan.ts   (as root: fixture sites bind ports 80/443 on 127.x.y.z)
 * The fixture servers share this process, so the numbers include their side of every handshake.
 */
import { scanTarget } from '../server/scan/scan';
import { parseTarget } from '../server/scan/target';
import { SITE_PRESETS, startFleet } from '../server/testing/fleet';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const fleet = await startFleet({ hardened: SITE_PRESETS.hardened });
const options = { dnsServers: [fleet.dnsServer], allowPrivate: true, extraCaPems: [fleet.caCertPem] };
const target = parseTarget(fleet.host('hardened'));
await scanTarget(target, options); // warm-up: module loading, TLS contexts

const sequential: number[] = [];
for (let run = 0; run < 40; run++) {
  const started = performance.now();
  const result = await scanTarget(target, options);
  if (result.grade !== 'A+') throw new Error(`unexpected grade ${result.grade}`);
  sequential.push(performance.now() - started);
}
sequential.sort((a, b) => a - b);

const started = performance.now();
await Promise.all(Array.from({ length: 8 }, () => scanTarget(target, options)));
const parallelMs = performance.now() - started;

console.log(
  `one healthy loopback site, 40 sequential scans: p50 ${percentile(sequential, 50).toFixed(0)} ms, p95 ${percentile(sequential, 95).toFixed(0)} ms`,
);
console.log(`eight concurrent scans of it: ${parallelMs.toFixed(0)} ms wall`);
await fleet.close();
