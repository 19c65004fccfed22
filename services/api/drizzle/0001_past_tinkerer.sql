CREATE TABLE `assets` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`kind` text NOT NULL,
	`media_type` text NOT NULL,
	`content_hash` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`width` integer,
	`height` integer,
	`description` text,
	`folder_path` text NOT NULL,
	`source_task_id` text,
	`source_agent_im_user_id` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `assets_workspace_hash` ON `assets` (`workspace_id`,`content_hash`);--> statement-breakpoint
CREATE INDEX `assets_workspace_id` ON `assets` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `assets_workspace_folder` ON `assets` (`workspace_id`,`folder_path`,`id`);--> statement-breakpoint
CREATE INDEX `assets_workspace_task` ON `assets` (`workspace_id`,`source_task_id`,`id`);--> statement-breakpoint
CREATE INDEX `assets_hash` ON `assets` (`content_hash`);