CREATE TABLE `generations` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`status` text NOT NULL,
	`operation` text NOT NULL,
	`prompt` text NOT NULL,
	`prompt_hash` text NOT NULL,
	`model` text NOT NULL,
	`provider` text NOT NULL,
	`size` text,
	`seed` integer,
	`n` integer NOT NULL,
	`parameters` text NOT NULL,
	`asset_ids` text NOT NULL,
	`attempts` text NOT NULL,
	`warnings` text NOT NULL,
	`usage` text,
	`cost_cents` real NOT NULL,
	`error` text,
	`timings` text,
	`parent_generation_id` text,
	`root_generation_id` text,
	`input_asset_ids` text NOT NULL,
	`model_turn` text,
	`source_task_id` text,
	`created_at` text NOT NULL,
	`finished_at` text,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `generations_workspace_id` ON `generations` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `generations_workspace_root` ON `generations` (`workspace_id`,`root_generation_id`,`id`);