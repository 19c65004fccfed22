ALTER TABLE "generations" ALTER COLUMN "id" SET DATA TYPE text COLLATE "C";--> statement-breakpoint
ALTER TABLE "generations" ALTER COLUMN "model_turn" SET DATA TYPE json;--> statement-breakpoint
CREATE INDEX "generations_asset_ids" ON "generations" USING gin ("asset_ids" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "generations_unfinished" ON "generations" USING btree ("created_at") WHERE "generations"."status" IN ('queued', 'running');