CREATE TABLE "blob_pins" (
	"id" text PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL,
	"expires_at_ms" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assets" ALTER COLUMN "id" SET DATA TYPE text COLLATE "C";--> statement-breakpoint
ALTER TABLE "assets" ALTER COLUMN "folder_path" SET DATA TYPE text COLLATE "C";--> statement-breakpoint
CREATE INDEX "blob_pins_sha256" ON "blob_pins" USING btree ("sha256","expires_at_ms");--> statement-breakpoint
CREATE INDEX "blob_pins_expires" ON "blob_pins" USING btree ("expires_at_ms");