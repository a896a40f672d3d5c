-- The server may log in as a role of its own that owns nothing and is a member of tally_app
-- (`tally serve --skip-migrations`; the owner migrates with `tally migrate`). Readiness reads
-- which migrations are applied, so tally_app may too.
grant select on _sqlx_migrations to tally_app;
