import type { CatalogueEntry } from '../scan/catalogue';

/** Catalogue entries of `vigil audit` (SPEC.md "Audit finding IDs"), merged into the one catalogue. */
export const auditEntries = {} as const satisfies Record<string, CatalogueEntry>;
