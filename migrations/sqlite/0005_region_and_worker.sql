ALTER TABLE `scans` ADD `worker` text;--> statement-breakpoint
ALTER TABLE `scans` ADD `region` text;--> statement-breakpoint
CREATE INDEX `scans_errors_idx` ON `scans` (`id`) WHERE "scans"."outcome" = 'error';--> statement-breakpoint
ALTER TABLE `sites` ADD `region` text;