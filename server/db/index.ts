export {
  appliedMigrationCount,
  applyMigrations,
  type Database,
  type Db,
  databaseFile,
  databaseSize,
  migrateDatabase,
  openDatabase,
  openMigratedDatabase,
  storageByObject,
  waitForMigratedDatabase,
} from './client';
export {
  checkDatabaseHealth,
  type DatabaseHealth,
  MIN_FREE_BYTES,
  type StorageFault,
  type StorageFaultKind,
  storageFault,
} from './faults';
