ALTER TABLE `generations` ADD `parent_asset_id` text;--> statement-breakpoint
ALTER TABLE `generations` ADD `inputs` text;--> statement-breakpoint
ALTER TABLE `generations` ADD `image_indexes` text;--> statement-breakpoint
ALTER TABLE `generations` ADD `sent_text` text;