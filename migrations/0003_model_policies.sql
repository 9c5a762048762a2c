CREATE TABLE `model_policies` (
	`model` text PRIMARY KEY NOT NULL,
	`min_workers` integer DEFAULT 0 NOT NULL,
	`max_workers` integer,
	`preferred_hives` text NOT NULL,
	`worker_types` text,
	`keep_alive_seconds` integer,
	`source` text,
	`updated_at` integer NOT NULL
);
