-- Runs once, on the first start of the compose PostgreSQL: the statement report's extension.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
