CREATE TABLE `mcp_servers` (
	`name` text PRIMARY KEY NOT NULL,
	`transport` text NOT NULL,
	`config` text NOT NULL,
	`pinned` text DEFAULT '{}' NOT NULL,
	`observed` text,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`approved_at` integer NOT NULL
);
