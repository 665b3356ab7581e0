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
  pingDatabase,
  storageByObject,
} from './client';
