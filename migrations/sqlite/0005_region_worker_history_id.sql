DROP INDEX `scans_site_history_idx`;--> statement-breakpoint
ALTER TABLE `scans` ADD `worker` text;--> statement-breakpoint
ALTER TABLE `scans` ADD `region` text;--> statement-breakpoint
CREATE INDEX `scans_errors_idx` ON `scans` (`id`) WHERE "scans"."outcome" = 'error';--> statement-breakpoint
CREATE INDEX `scans_site_history_idx` ON `scans` (`site_id`,`started_at`,`id`,`state`,`outcome`,`grade`,`score`,`finding_set_id`);--> statement-breakpoint
ALTER TABLE `sites` ADD `region` text;