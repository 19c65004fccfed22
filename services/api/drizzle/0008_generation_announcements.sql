ALTER TABLE `generations` ADD `webhook_url` text;--> statement-breakpoint
ALTER TABLE `generations` ADD `announced_at` text;--> statement-breakpoint
-- Generations that ended before the mark existed were announced then (or never will be): marked,
-- so the recovery pass does not announce them a second time.
UPDATE `generations` SET `announced_at` = `finished_at`
WHERE `status` IN ('succeeded', 'failed', 'cancelled') AND `finished_at` IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM `generation_jobs` WHERE `generation_jobs`.`generation_id` = `generations`.`id`
    AND `generation_jobs`.`state` IN ('queued', 'running'));--> statement-breakpoint
CREATE INDEX `generations_unannounced` ON `generations` (`finished_at`) WHERE announced_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_endpoint_event` ON `webhook_deliveries` (`generation_id`,`endpoint_id`,`event_type`);--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_request_event` ON `webhook_deliveries` (`generation_id`,`event_type`) WHERE endpoint_id is null;