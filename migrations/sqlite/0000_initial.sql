CREATE TABLE `context_sets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`hash` text NOT NULL,
	`body` blob NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `context_sets_hash_unique` ON `context_sets` (`hash`);--> statement-breakpoint
CREATE TABLE `daily_summaries` (
	`site_id` integer NOT NULL,
	`day` text NOT NULL,
	`scans` integer NOT NULL,
	`min_score` integer,
	`max_score` integer,
	`last_score` integer,
	`last_grade` text,
	`worst_grade` text,
	`last_outcome` text NOT NULL,
	`last_scan_at` integer NOT NULL,
	`last_finding_set_id` integer,
	PRIMARY KEY(`site_id`, `day`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `finding_sets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`hash` text NOT NULL,
	`body` blob NOT NULL,
	`critical` integer NOT NULL,
	`high` integer NOT NULL,
	`medium` integer NOT NULL,
	`low` integer NOT NULL,
	`info` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `finding_sets_hash_unique` ON `finding_sets` (`hash`);--> statement-breakpoint
CREATE TABLE `scans` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`trigger` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`queued_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`outcome` text,
	`grade` text,
	`score` integer,
	`duration_ms` integer,
	`error` text,
	`finding_set_id` integer,
	`context_set_id` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `scans_site_started_idx` ON `scans` (`site_id`,`started_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `scans_active_site_unique` ON `scans` (`site_id`) WHERE "scans"."state" in ('queued', 'running');--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `site_tags` (
	`site_id` integer NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`site_id`, `tag`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `site_tags_tag_idx` ON `site_tags` (`tag`);--> statement-breakpoint
CREATE TABLE `sites` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`host` text NOT NULL,
	`label` text DEFAULT '' NOT NULL,
	`interval_minutes` integer NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`allow_private` integer DEFAULT false NOT NULL,
	`next_scan_at` integer NOT NULL,
	`last_scan_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`last_scan_id`) REFERENCES `scans`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sites_host_unique` ON `sites` (`host`);--> statement-breakpoint
CREATE INDEX `sites_due_idx` ON `sites` (`enabled`,`next_scan_at`);--> statement-breakpoint
CREATE INDEX `sites_last_scan_idx` ON `sites` (`last_scan_id`);