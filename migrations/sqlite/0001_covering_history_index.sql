DROP INDEX `scans_site_started_idx`;--> statement-breakpoint
CREATE INDEX `scans_site_history_idx` ON `scans` (`site_id`,`started_at`,`state`,`outcome`,`grade`,`score`,`finding_set_id`);