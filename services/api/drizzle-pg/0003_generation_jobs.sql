CREATE TABLE "generation_jobs" (
	"generation_id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"state" text NOT NULL,
	"payload" jsonb NOT NULL,
	"reservation_id" text,
	"attempts" integer NOT NULL,
	"lease_owner" text,
	"lease_expires_at" bigint,
	"dispatched_at" bigint,
	"cancel_requested" boolean NOT NULL,
	"created_at" bigint NOT NULL,
	"finished_at" bigint
);
--> statement-breakpoint
ALTER TABLE "generation_jobs" ADD CONSTRAINT "generation_jobs_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generation_jobs" ADD CONSTRAINT "generation_jobs_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "generation_jobs_claim" ON "generation_jobs" USING btree ("state","created_at");--> statement-breakpoint
CREATE INDEX "generation_jobs_workspace" ON "generation_jobs" USING btree ("workspace_id","state");