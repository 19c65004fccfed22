CREATE TABLE `generation_jobs` (
	`generation_id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`state` text NOT NULL,
	`payload` text NOT NULL,
	`reservation_id` text,
	`attempts` integer NOT NULL,
	`lease_owner` text,
	`lease_expires_at` integer,
	`dispatched_at` integer,
	`cancel_requested` integer NOT NULL,
	`created_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`generation_id`) REFERENCES `generations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `generation_jobs_claim` ON `generation_jobs` (`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `generation_jobs_workspace` ON `generation_jobs` (`workspace_id`,`state`);