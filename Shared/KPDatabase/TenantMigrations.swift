/// The tenant schema's migrations, shared by every service, in version order.
///
/// This list is the one extension point for tenant tables. To add tables or change them, append
/// a ``TenantMigration`` at the end of ``all`` with the next version and your service as its
/// owner. Never edit, remove or reorder a migration that has been released: tenants already at
/// its version will not run it again. New tenants are provisioned with every migration;
/// existing ones get new migrations from `kp-tenants migrate` or the `Migrate` RPC.
public enum TenantMigrations {
  /// Every migration, oldest first.
  public static let all: [TenantMigration] = [
    TenantMigration(
      version: 1, owner: "tenants", summary: "tenant settings",
      sql: """
        CREATE TABLE settings (
          key text PRIMARY KEY,
          value text NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        """),
    TenantMigration(
      version: 2, owner: "tenants", summary: "usage counters for quotas",
      sql: """
        CREATE TABLE usage_counters (
          name text PRIMARY KEY,
          value bigint NOT NULL DEFAULT 0 CHECK (value >= 0),
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO usage_counters (name) VALUES ('documents'), ('stored_bytes');
        """),
    TenantMigration(
      version: 3, owner: "auth", summary: "users, groups, sessions, API keys and audit log",
      sql: """
        CREATE TABLE auth_users (
          id text PRIMARY KEY,
          email text NOT NULL,
          email_key text NOT NULL UNIQUE,
          display_name text NOT NULL DEFAULT '',
          role text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'member', 'viewer')),
          password_hash text,
          disabled boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE auth_groups (
          id text PRIMARY KEY,
          name text NOT NULL,
          name_key text NOT NULL UNIQUE,
          description text NOT NULL DEFAULT '',
          created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE auth_group_members (
          group_id text NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
          user_id text NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
          PRIMARY KEY (group_id, user_id)
        );
        CREATE INDEX auth_group_members_user ON auth_group_members (user_id);
        CREATE TABLE auth_refresh_tokens (
          id text PRIMARY KEY,
          family_id text NOT NULL,
          user_id text NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
          token_hash bytea NOT NULL UNIQUE,
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL,
          rotated_at timestamptz,
          revoked_at timestamptz
        );
        CREATE INDEX auth_refresh_tokens_family ON auth_refresh_tokens (family_id);
        CREATE TABLE auth_api_keys (
          id text PRIMARY KEY,
          name text NOT NULL,
          prefix text NOT NULL,
          secret_hash bytea NOT NULL UNIQUE,
          scopes text[] NOT NULL,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz,
          revoked_at timestamptz,
          last_used_at timestamptz
        );
        CREATE TABLE auth_audit_log (
          id bigserial PRIMARY KEY,
          at timestamptz NOT NULL DEFAULT clock_timestamp(),
          actor text NOT NULL,
          action text NOT NULL,
          target text NOT NULL DEFAULT '',
          source text NOT NULL DEFAULT '',
          outcome text NOT NULL,
          detail text NOT NULL DEFAULT ''
        );
        CREATE INDEX auth_audit_log_at ON auth_audit_log (at);
        """),
    TenantMigration(
      version: 4, owner: "knowledge", summary: "documents, chunks and the full-text index",
      sql: """
        CREATE TABLE documents (
          id text PRIMARY KEY,
          source text NOT NULL,
          external_id text NOT NULL,
          title text NOT NULL DEFAULT '',
          url text NOT NULL DEFAULT '',
          content_type text NOT NULL DEFAULT '',
          text text NOT NULL DEFAULT '',
          acl_tenant_wide boolean NOT NULL DEFAULT false,
          acl_users text[] NOT NULL DEFAULT '{}',
          acl_groups text[] NOT NULL DEFAULT '{}',
          attributes jsonb NOT NULL DEFAULT '{}',
          modified_at timestamptz,
          content_hash bytea NOT NULL,
          version bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
          bytes bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now(),
          UNIQUE (source, external_id)
        );
        CREATE INDEX documents_acl_users ON documents USING gin (acl_users);
        CREATE INDEX documents_acl_groups ON documents USING gin (acl_groups);
        CREATE TABLE chunks (
          document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
          ordinal integer NOT NULL CHECK (ordinal >= 0),
          heading_path text[] NOT NULL DEFAULT '{}',
          text text NOT NULL,
          search_config regconfig NOT NULL DEFAULT 'english',
          search_title text NOT NULL DEFAULT '',
          search_headings text NOT NULL DEFAULT '',
          search tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector(search_config, search_title), 'A')
            || setweight(to_tsvector(search_config, search_headings), 'B')
            || setweight(to_tsvector(search_config, text), 'C')
          ) STORED,
          PRIMARY KEY (document_id, ordinal)
        );
        CREATE INDEX chunks_search ON chunks USING gin (search);
        """),
    ingestQueue,
    // Append new migrations here, with the next version number.
  ]

  /// The newest version: what new tenants are provisioned at.
  public static var latestVersion: Int { all.last?.version ?? 0 }
}
