CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text,
	"key_hash" text NOT NULL,
	"display_prefix" text NOT NULL,
	"last4" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"requests_per_minute" integer,
	"images_per_minute" integer,
	"created_at" text NOT NULL,
	"revoked_at" text
);
--> statement-breakpoint
CREATE TABLE "assets" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"media_type" text NOT NULL,
	"content_hash" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"width" integer,
	"height" integer,
	"description" text,
	"folder_path" text NOT NULL,
	"source_task_id" text,
	"source_agent_im_user_id" text,
	"created_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_accounts" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"balance" bigint NOT NULL,
	"updated_at" text NOT NULL,
	CONSTRAINT "credit_accounts_balance" CHECK ("credit_accounts"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "credit_ledger" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "credit_ledger_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"delta" bigint NOT NULL,
	"reservation_id" text,
	"reference" text,
	"model" text,
	"created_at" text NOT NULL,
	CONSTRAINT "credit_ledger_kind" CHECK ("credit_ledger"."kind" IN ('grant', 'reserve', 'settle', 'release')),
	CONSTRAINT "credit_ledger_grant_has_no_reservation" CHECK (("credit_ledger"."kind" = 'grant') = ("credit_ledger"."reservation_id" IS NULL)),
	CONSTRAINT "credit_ledger_sign" CHECK (("credit_ledger"."kind" IN ('grant', 'settle', 'release')) = ("credit_ledger"."delta" >= 0) OR "credit_ledger"."delta" = 0)
);
--> statement-breakpoint
CREATE TABLE "credit_reservations" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"reference" text NOT NULL,
	"amount" bigint NOT NULL,
	"model" text,
	"state" text NOT NULL,
	"settled_amount" bigint,
	"images" integer,
	"created_at" text NOT NULL,
	"closed_at" text,
	CONSTRAINT "credit_reservations_amount" CHECK ("credit_reservations"."amount" >= 0),
	CONSTRAINT "credit_reservations_state" CHECK ("credit_reservations"."state" IN ('held', 'settled', 'released')),
	CONSTRAINT "credit_reservations_settled_amount" CHECK ("credit_reservations"."settled_amount" BETWEEN 0 AND "credit_reservations"."amount"),
	CONSTRAINT "credit_reservations_images" CHECK ("credit_reservations"."images" >= 0),
	CONSTRAINT "credit_reservations_settled" CHECK (("credit_reservations"."state" = 'settled') = ("credit_reservations"."settled_amount" IS NOT NULL)),
	CONSTRAINT "credit_reservations_open" CHECK (("credit_reservations"."state" = 'held') = ("credit_reservations"."closed_at" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "generations" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"status" text NOT NULL,
	"operation" text NOT NULL,
	"prompt" text NOT NULL,
	"prompt_hash" text NOT NULL,
	"model" text NOT NULL,
	"provider" text NOT NULL,
	"size" text,
	"seed" integer,
	"n" integer NOT NULL,
	"parameters" jsonb NOT NULL,
	"asset_ids" jsonb NOT NULL,
	"attempts" jsonb NOT NULL,
	"warnings" jsonb NOT NULL,
	"usage" jsonb,
	"cost_cents" double precision NOT NULL,
	"error" jsonb,
	"timings" jsonb,
	"parent_generation_id" text,
	"root_generation_id" text,
	"parent_asset_id" text,
	"input_asset_ids" jsonb NOT NULL,
	"inputs" jsonb,
	"image_indexes" jsonb,
	"sent_text" text,
	"model_turn" jsonb,
	"source_task_id" text,
	"created_at" text NOT NULL,
	"finished_at" text
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"workspace_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"token" text NOT NULL,
	"fingerprint" text NOT NULL,
	"state" text NOT NULL,
	"created_at_ms" bigint NOT NULL,
	"expires_at_ms" bigint NOT NULL,
	"lease_until_ms" bigint,
	"response_status" integer,
	"response_headers" text,
	"response_body" "bytea",
	CONSTRAINT "idempotency_keys_workspace_id_idempotency_key_pk" PRIMARY KEY("workspace_id","idempotency_key"),
	CONSTRAINT "idempotency_keys_state" CHECK ("idempotency_keys"."state" IN ('in_flight', 'completed')),
	CONSTRAINT "idempotency_keys_lease" CHECK (("idempotency_keys"."state" = 'in_flight') = ("idempotency_keys"."lease_until_ms" IS NOT NULL)),
	CONSTRAINT "idempotency_keys_response" CHECK (("idempotency_keys"."state" = 'completed') = ("idempotency_keys"."response_status" IS NOT NULL AND "idempotency_keys"."response_body" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assets" ADD CONSTRAINT "assets_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_accounts" ADD CONSTRAINT "credit_accounts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_ledger" ADD CONSTRAINT "credit_ledger_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_ledger" ADD CONSTRAINT "credit_ledger_reservation_id_credit_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."credit_reservations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_reservations" ADD CONSTRAINT "credit_reservations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_workspace" ON "api_keys" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "assets_workspace_hash" ON "assets" USING btree ("workspace_id","content_hash");--> statement-breakpoint
CREATE INDEX "assets_workspace_id" ON "assets" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "assets_workspace_folder" ON "assets" USING btree ("workspace_id","folder_path","id");--> statement-breakpoint
CREATE INDEX "assets_workspace_task" ON "assets" USING btree ("workspace_id","source_task_id","id");--> statement-breakpoint
CREATE INDEX "assets_hash" ON "assets" USING btree ("content_hash");--> statement-breakpoint
CREATE INDEX "credit_ledger_workspace" ON "credit_ledger" USING btree ("workspace_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_ledger_one_reserve" ON "credit_ledger" USING btree ("reservation_id") WHERE "credit_ledger"."kind" = 'reserve';--> statement-breakpoint
CREATE UNIQUE INDEX "credit_ledger_one_close" ON "credit_ledger" USING btree ("reservation_id") WHERE "credit_ledger"."kind" IN ('settle', 'release');--> statement-breakpoint
CREATE UNIQUE INDEX "credit_ledger_grant_reference" ON "credit_ledger" USING btree ("reference") WHERE "credit_ledger"."kind" = 'grant' AND "credit_ledger"."reference" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "credit_reservations_reference" ON "credit_reservations" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "credit_reservations_held" ON "credit_reservations" USING btree ("created_at") WHERE "credit_reservations"."state" = 'held';--> statement-breakpoint
CREATE INDEX "credit_reservations_usage" ON "credit_reservations" USING btree ("workspace_id","closed_at") WHERE "credit_reservations"."state" = 'settled';--> statement-breakpoint
CREATE INDEX "generations_workspace_id" ON "generations" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "generations_workspace_root" ON "generations" USING btree ("workspace_id","root_generation_id","id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_expiry" ON "idempotency_keys" USING btree ("expires_at_ms");