-- The platform's SQLite schema as the release before versioned migrations made it
-- (`wixhttp platform` of main at 41dc4f7, dumped from its platform.db's sqlite_master).
-- Frozen: tests build an 'old' data directory from it. Never edit.
CREATE TABLE api_keys (
	seq INTEGER NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	secret_hash VARCHAR(64) NOT NULL, 
	hint VARCHAR(16) NOT NULL, 
	scopes JSON NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	revoked_at VARCHAR(32) NOT NULL, 
	PRIMARY KEY (seq), 
	UNIQUE (id), 
	UNIQUE (secret_hash)
);
CREATE TABLE functions (
	seq INTEGER NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	runtime VARCHAR(64) NOT NULL, 
	execute JSON NOT NULL, 
	events JSON NOT NULL, 
	schedule VARCHAR(256) NOT NULL, 
	timeout INTEGER NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	logging BOOLEAN NOT NULL, 
	entrypoint TEXT NOT NULL, 
	commands TEXT NOT NULL, 
	scopes JSON NOT NULL, 
	live BOOLEAN NOT NULL, 
	deployment_id VARCHAR(36) NOT NULL, 
	deployment_created_at VARCHAR(32) NOT NULL, 
	latest_deployment_id VARCHAR(36) NOT NULL, 
	latest_deployment_created_at VARCHAR(32) NOT NULL, 
	latest_deployment_status VARCHAR(16) NOT NULL, 
	extra JSON NOT NULL, 
	PRIMARY KEY (seq), 
	CONSTRAINT uq_functions_project_id UNIQUE (project_id, id)
);
CREATE TABLE variables (
	seq INTEGER NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	function_id VARCHAR(36) NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	value TEXT NOT NULL, 
	secret BOOLEAN NOT NULL, 
	description TEXT NOT NULL, 
	PRIMARY KEY (seq), 
	CONSTRAINT uq_variables_id UNIQUE (project_id, function_id, id), 
	CONSTRAINT uq_variables_key UNIQUE (project_id, function_id, "key")
);
CREATE TABLE deployments (
	seq INTEGER NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	function_id VARCHAR(36) NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	type VARCHAR(16) NOT NULL, 
	entrypoint TEXT NOT NULL, 
	commands TEXT NOT NULL, 
	source_size INTEGER NOT NULL, 
	build_size INTEGER NOT NULL, 
	total_size INTEGER NOT NULL, 
	activate BOOLEAN NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	build_logs TEXT NOT NULL, 
	build_duration INTEGER NOT NULL, 
	chunks_total INTEGER NOT NULL, 
	chunks_uploaded INTEGER NOT NULL, 
	routes JSON NOT NULL, 
	PRIMARY KEY (seq), 
	UNIQUE (id)
);
CREATE INDEX ix_deployments_function ON deployments (project_id, function_id, seq);
CREATE TABLE activations (
	seq INTEGER NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	function_id VARCHAR(36) NOT NULL, 
	revision INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	deployment_id VARCHAR(36) NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	PRIMARY KEY (seq), 
	CONSTRAINT uq_activations_function UNIQUE (project_id, function_id), 
	UNIQUE (id)
);
CREATE TABLE executions (
	seq INTEGER NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	function_id VARCHAR(36) NOT NULL, 
	deployment_id VARCHAR(36) NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	"trigger" VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	request_method VARCHAR(16) NOT NULL, 
	request_path TEXT NOT NULL, 
	request_headers JSON NOT NULL, 
	response_status_code INTEGER NOT NULL, 
	response_headers JSON NOT NULL, 
	logs TEXT NOT NULL, 
	errors TEXT NOT NULL, 
	duration FLOAT NOT NULL, 
	scheduled_at VARCHAR(32), 
	pending_headers JSON, 
	pending_body TEXT, 
	PRIMARY KEY (seq), 
	UNIQUE (id)
);
CREATE INDEX ix_executions_status ON executions (status);
CREATE INDEX ix_executions_function ON executions (project_id, function_id, seq);
CREATE TABLE cron_ticks (
	seq INTEGER NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	function_id VARCHAR(36) NOT NULL, 
	last_tick FLOAT NOT NULL, 
	PRIMARY KEY (seq), 
	CONSTRAINT uq_cron_ticks_function UNIQUE (project_id, function_id)
);
