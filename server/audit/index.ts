export { auditProject } from './audit';
export { type AuditIo, auditCommand } from './command';
export { formatAuditReport } from './render';
export { toSarif } from './sarif';
export type {
  AuditFinding,
  AuditFindingId,
  AuditNote,
  AuditOptions,
  AuditReport,
  SourceLocation,
} from './types';
