CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `hive_models` (
	`hive_name` text NOT NULL,
	`model` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	PRIMARY KEY(`hive_name`, `model`)
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`operation` text NOT NULL,
	`hive_name` text NOT NULL,
	`params` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`);--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`key_id` text NOT NULL,
	`day` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `day`)
);
--> statement-breakpoint
CREATE TABLE `worker_history` (
	`id` text PRIMARY KEY NOT NULL,
	`hive_name` text NOT NULL,
	`model` text NOT NULL,
	`pid` integer,
	`port` integer,
	`spawned_at` integer NOT NULL,
	`stopped_at` integer,
	`stop_reason` text
);
--> statement-breakpoint
CREATE INDEX `worker_history_hive_idx` ON `worker_history` (`hive_name`);--> statement-breakpoint
ALTER TABLE `hives` ADD `token_revoked_at` integer;--> statement-breakpoint
ALTER TABLE `hives` ADD `capabilities` text;--> statement-breakpoint
ALTER TABLE `hives` ADD `first_seen_at` integer;