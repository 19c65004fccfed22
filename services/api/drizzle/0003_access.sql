CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text,
	`key_hash` text NOT NULL,
	`display_prefix` text NOT NULL,
	`last4` text NOT NULL,
	`scopes` text NOT NULL,
	`requests_per_minute` integer,
	`images_per_minute` integer,
	`created_at` text NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_workspace` ON `api_keys` (`workspace_id`,`id`);--> statement-breakpoint
CREATE TABLE `credit_accounts` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`balance` integer NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "credit_accounts_balance" CHECK("credit_accounts"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE `credit_ledger` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`kind` text NOT NULL,
	`delta` integer NOT NULL,
	`reservation_id` text,
	`reference` text,
	`model` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`reservation_id`) REFERENCES `credit_reservations`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "credit_ledger_kind" CHECK("credit_ledger"."kind" IN ('grant', 'reserve', 'settle', 'release')),
	CONSTRAINT "credit_ledger_grant_has_no_reservation" CHECK(("credit_ledger"."kind" = 'grant') = ("credit_ledger"."reservation_id" IS NULL)),
	CONSTRAINT "credit_ledger_sign" CHECK(("credit_ledger"."kind" IN ('grant', 'settle', 'release')) = ("credit_ledger"."delta" >= 0) OR "credit_ledger"."delta" = 0)
);
--> statement-breakpoint
CREATE INDEX `credit_ledger_workspace` ON `credit_ledger` (`workspace_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `credit_ledger_one_reserve` ON `credit_ledger` (`reservation_id`) WHERE "credit_ledger"."kind" = 'reserve';--> statement-breakpoint
CREATE UNIQUE INDEX `credit_ledger_one_close` ON `credit_ledger` (`reservation_id`) WHERE "credit_ledger"."kind" IN ('settle', 'release');--> statement-breakpoint
CREATE UNIQUE INDEX `credit_ledger_grant_reference` ON `credit_ledger` (`reference`) WHERE "credit_ledger"."kind" = 'grant' AND "credit_ledger"."reference" IS NOT NULL;--> statement-breakpoint
CREATE TABLE `credit_reservations` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`reference` text NOT NULL,
	`amount` integer NOT NULL,
	`model` text,
	`state` text NOT NULL,
	`settled_amount` integer,
	`images` integer,
	`created_at` text NOT NULL,
	`closed_at` text,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "credit_reservations_amount" CHECK("credit_reservations"."amount" >= 0),
	CONSTRAINT "credit_reservations_state" CHECK("credit_reservations"."state" IN ('held', 'settled', 'released')),
	CONSTRAINT "credit_reservations_settled_amount" CHECK("credit_reservations"."settled_amount" BETWEEN 0 AND "credit_reservations"."amount"),
	CONSTRAINT "credit_reservations_images" CHECK("credit_reservations"."images" >= 0),
	CONSTRAINT "credit_reservations_settled" CHECK(("credit_reservations"."state" = 'settled') = ("credit_reservations"."settled_amount" IS NOT NULL)),
	CONSTRAINT "credit_reservations_open" CHECK(("credit_reservations"."state" = 'held') = ("credit_reservations"."closed_at" IS NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credit_reservations_reference` ON `credit_reservations` (`reference`);--> statement-breakpoint
CREATE INDEX `credit_reservations_held` ON `credit_reservations` (`created_at`) WHERE "credit_reservations"."state" = 'held';--> statement-breakpoint
CREATE INDEX `credit_reservations_usage` ON `credit_reservations` (`workspace_id`,`closed_at`) WHERE "credit_reservations"."state" = 'settled';--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`workspace_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`token` text NOT NULL,
	`fingerprint` text NOT NULL,
	`state` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`expires_at_ms` integer NOT NULL,
	`lease_until_ms` integer,
	`response_status` integer,
	`response_headers` text,
	`response_body` blob,
	PRIMARY KEY(`workspace_id`, `idempotency_key`),
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "idempotency_keys_state" CHECK("idempotency_keys"."state" IN ('in_flight', 'completed')),
	CONSTRAINT "idempotency_keys_lease" CHECK(("idempotency_keys"."state" = 'in_flight') = ("idempotency_keys"."lease_until_ms" IS NOT NULL)),
	CONSTRAINT "idempotency_keys_response" CHECK(("idempotency_keys"."state" = 'completed') = ("idempotency_keys"."response_status" IS NOT NULL AND "idempotency_keys"."response_body" IS NOT NULL))
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_expiry` ON `idempotency_keys` (`expires_at_ms`);