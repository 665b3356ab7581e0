CREATE TABLE `alert_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mail_id` integer NOT NULL,
	`recipient_id` integer,
	`address` text NOT NULL,
	`message_id` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_attempt_at` integer,
	`last_error` text,
	`sent_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`mail_id`) REFERENCES `alert_mails`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`recipient_id`) REFERENCES `alert_recipients`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_deliveries_message_id_unique` ON `alert_deliveries` (`message_id`);--> statement-breakpoint
CREATE INDEX `alert_deliveries_due_idx` ON `alert_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `alert_deliveries_mail_idx` ON `alert_deliveries` (`mail_id`);--> statement-breakpoint
CREATE INDEX `alert_deliveries_recipient_idx` ON `alert_deliveries` (`recipient_id`);--> statement-breakpoint
CREATE TABLE `alert_mail_incidents` (
	`mail_id` integer NOT NULL,
	`incident_id` integer NOT NULL,
	PRIMARY KEY(`mail_id`, `incident_id`),
	FOREIGN KEY (`mail_id`) REFERENCES `alert_mails`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`incident_id`) REFERENCES `incidents`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_mail_incidents_incident_idx` ON `alert_mail_incidents` (`incident_id`);--> statement-breakpoint
CREATE TABLE `alert_mails` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`site_id` integer,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `alert_mails_site_idx` ON `alert_mails` (`site_id`);--> statement-breakpoint
CREATE TABLE `alert_mutes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`key` text NOT NULL,
	`reason` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_mutes_site_key_idx` ON `alert_mutes` (`site_id`,`key`,`expires_at`);--> statement-breakpoint
CREATE TABLE `alert_recipients` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`mode` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`last_digest_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_recipients_email_unique` ON `alert_recipients` (`email`);--> statement-breakpoint
CREATE TABLE `alert_site_states` (
	`site_id` integer PRIMARY KEY NOT NULL,
	`last_scan_id` integer NOT NULL,
	`memory` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `alert_subscriptions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`recipient_id` integer NOT NULL,
	`site_id` integer,
	`tag` text,
	FOREIGN KEY (`recipient_id`) REFERENCES `alert_recipients`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_subscriptions_recipient_idx` ON `alert_subscriptions` (`recipient_id`);--> statement-breakpoint
CREATE INDEX `alert_subscriptions_site_idx` ON `alert_subscriptions` (`site_id`);--> statement-breakpoint
CREATE TABLE `incident_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incident_id` integer NOT NULL,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`severity` text NOT NULL,
	`scan_id` integer,
	`notify` integer NOT NULL,
	`mail_id` integer,
	`detail` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`incident_id`) REFERENCES `incidents`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`mail_id`) REFERENCES `alert_mails`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `incident_events_incident_idx` ON `incident_events` (`incident_id`,`at`);--> statement-breakpoint
CREATE INDEX `incident_events_at_idx` ON `incident_events` (`at`);--> statement-breakpoint
CREATE INDEX `incident_events_mail_idx` ON `incident_events` (`mail_id`);--> statement-breakpoint
CREATE TABLE `incidents` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`key` text NOT NULL,
	`severity` text NOT NULL,
	`status` text NOT NULL,
	`opened_at` integer NOT NULL,
	`first_seen_at` integer NOT NULL,
	`resolved_at` integer,
	`open_scan_id` integer,
	`resolve_scan_id` integer,
	`evidence` text DEFAULT '' NOT NULL,
	`from_grade` text,
	`acknowledged_at` integer,
	`acknowledged_note` text,
	`last_notified_at` integer NOT NULL,
	`flapping_since` integer,
	`reopen_count` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `incidents_open_unique` ON `incidents` (`site_id`,`key`) WHERE "incidents"."status" = 'open';--> statement-breakpoint
CREATE INDEX `incidents_site_opened_idx` ON `incidents` (`site_id`,`opened_at`);--> statement-breakpoint
CREATE INDEX `incidents_status_opened_idx` ON `incidents` (`status`,`opened_at`);