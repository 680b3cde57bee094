import KPServiceKit

/// The settings only `kp-tenants` takes, beside the mesh and database ones.
enum TenantsSettings {
  static let all: [Setting] = [
    Setting(
      "tenant-schema-version",
      help: "The tenant schema version new tenants get and migrations move to; 0 means the "
        + "newest this build knows. Lower it to roll a migration out in stages.",
      valueName: "version", default: "0"),
    Setting(
      "provisioning-timeout-seconds",
      help: "A tenant create interrupted for longer than this, and not retried, is rolled back "
        + "at the next start.",
      valueName: "seconds", default: "600"),
    Setting(
      "migrate-concurrency",
      help: "How many tenants 'kp-tenants migrate' migrates at once.", valueName: "count",
      default: "4"),
  ]
}
