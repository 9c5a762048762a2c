CREATE INDEX `hive_models_last_seen_idx` ON `hive_models` (`last_seen_at`);--> statement-breakpoint
CREATE INDEX `jobs_ended_idx` ON `jobs` (`ended_at`);--> statement-breakpoint
CREATE INDEX `usage_daily_day_idx` ON `usage_daily` (`day`);--> statement-breakpoint
CREATE INDEX `worker_history_stopped_idx` ON `worker_history` (`stopped_at`);