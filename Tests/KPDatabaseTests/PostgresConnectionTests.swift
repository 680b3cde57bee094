import KPDatabase
import KPTesting
import Testing

@Suite("PostgresConnection against a real PostgreSQL")
struct PostgresConnectionTests {
  @Test("a simple query returns its columns and rows")
  func simpleQuery() async throws {
    try await PostgresFixture.withConnection { connection in
      let rows = try connection.query("SELECT 1 AS one, 'two' AS two")
      #expect(rows.columns == ["one", "two"])
      #expect(rows.count == 1)
      #expect(rows[0]["one"] == "1")
      #expect(rows[0][1] == "two")
      #expect(rows[0]["missing"] == nil)
      #expect(connection.isOpen)
    }
  }

  @Test(
    "bound parameters arrive exactly as sent",
    arguments: [
      "O'Brien",
      "\"double\" quotes and \\ backslashes",
      "'); DROP TABLE notes; --",
      "Grüße, 日本語, emoji 🙂",
      "",
      "line one\nline two\ttabbed",
      "$1 is not a placeholder inside a value",
    ])
  func boundParameters(value: String) async throws {
    try await PostgresFixture.withConnection { connection in
      try connection.query("CREATE TABLE notes (id int PRIMARY KEY, body text)")
      let inserted = try connection.query(
        "INSERT INTO notes (id, body) VALUES ($1, $2)", ["1", value])
      #expect(inserted.affectedRowCount == 1)

      let rows = try connection.query(
        "SELECT body, length(body) FROM notes WHERE body = $1", [value])
      #expect(rows.count == 1)
      #expect(rows[0]["body"] == value)
      #expect(rows[0]["length"] == String(value.count))

      let tables = try connection.query("SELECT count(*) FROM pg_tables WHERE tablename = 'notes'")
      #expect(tables[0][0] == "1")
    }
  }

  @Test("nil is SQL NULL in both directions")
  func nullParameters() async throws {
    try await PostgresFixture.withConnection { connection in
      try connection.query("CREATE TABLE notes (id int PRIMARY KEY, body text)")
      try connection.query("INSERT INTO notes VALUES ($1, $2), ($3, $4)", ["1", nil, "2", "x"])

      let rows = try connection.query(
        "SELECT id, body, body IS NULL AS missing FROM notes ORDER BY id")
      #expect(rows.map(\.values) == [["1", nil, "t"], ["2", "x", "f"]])
    }
  }

  @Test("a missing table fails with SQLSTATE 42P01")
  func undefinedTable() async throws {
    try await PostgresFixture.withConnection { connection in
      let error = #expect(throws: DatabaseError.self) {
        try connection.query("SELECT * FROM no_such_table WHERE id = $1", ["1"])
      }
      #expect(error?.code == .serverError)
      #expect(error?.sqlState == "42P01")
      #expect(error?.message.contains("no_such_table") == true)

      // The connection stays usable after a server error.
      let again = try connection.query("SELECT 2")
      #expect(again[0][0] == "2")
    }
  }

  @Test("a duplicate key fails with SQLSTATE 23505 and the server's detail")
  func uniqueViolation() async throws {
    try await PostgresFixture.withConnection { connection in
      try connection.query("CREATE TABLE notes (id int PRIMARY KEY)")
      try connection.query("INSERT INTO notes VALUES ($1)", ["7"])
      let error = #expect(throws: DatabaseError.self) {
        try connection.query("INSERT INTO notes VALUES ($1)", ["7"])
      }
      #expect(error?.sqlState == "23505")
      #expect(error?.detail?.contains("(id)=(7)") == true)
    }
  }

  @Test("a parameter of the wrong type fails with SQLSTATE 22P02")
  func invalidTextRepresentation() async throws {
    try await PostgresFixture.withConnection { connection in
      let error = #expect(throws: DatabaseError.self) {
        try connection.query("SELECT $1::int", ["not a number"])
      }
      #expect(error?.sqlState == "22P02")
    }
  }

  @Test("a NUL character in a parameter is refused before it reaches the server")
  func nulCharacter() async throws {
    try await PostgresFixture.withConnection { connection in
      let error = #expect(throws: DatabaseError.self) {
        try connection.query("SELECT $1::text", ["before\u{0}after"])
      }
      #expect(error?.code == .invalidParameter)
      #expect(error?.message.contains("$1") == true)
    }
  }

  @Test("execute runs several statements and returns the last one's rows")
  func executeScript() async throws {
    try await PostgresFixture.withConnection { connection in
      let rows = try connection.execute(
        """
        CREATE TABLE notes (id int);
        INSERT INTO notes VALUES (1), (2), (3);
        SELECT sum(id) FROM notes;
        """)
      #expect(rows[0][0] == "6")
    }
  }

  @Test("a closed connection refuses queries")
  func closedConnection() async throws {
    try await PostgresFixture.withDatabase { url in
      let connection = try PostgresConnection.connect(url: url)
      connection.close()
      connection.close()
      #expect(!connection.isOpen)
      let error = #expect(throws: DatabaseError.self) {
        try connection.query("SELECT 1")
      }
      #expect(error?.code == .connectionClosed)
    }
  }

  @Test("a session ended by the server reports a lost connection")
  func terminatedSession() async throws {
    try await PostgresFixture.withDatabase { url in
      let connection = try PostgresConnection.connect(url: url)
      let admin = try PostgresConnection.connect(url: url)
      let pid = try connection.query("SELECT pg_backend_pid()")[0][0]
      try admin.query("SELECT pg_terminate_backend($1::int)", [pid])
      let error = #expect(throws: DatabaseError.self) {
        try connection.query("SELECT 1")
      }
      #expect(error?.code == .connectionClosed)
      admin.close()
    }
  }

  @Test("connecting to a port nobody listens on fails with connectionFailed")
  func unreachableServer() {
    let error = #expect(throws: DatabaseError.self) {
      try PostgresConnection.connect(url: "postgresql://postgres@127.0.0.1:1/postgres")
    }
    #expect(error?.code == .connectionFailed)
    #expect(error?.message.contains("127.0.0.1") == true)
  }

  @Test("the fixture rewrites a URL's database and keeps its options")
  func fixtureDatabaseURL() {
    #expect(
      PostgresFixture.databaseURL("postgresql://postgres@127.0.0.1:55432/postgres", database: "t1")
        == "postgresql://postgres@127.0.0.1:55432/t1")
    #expect(
      PostgresFixture.databaseURL("postgres://u@h:1?sslmode=disable", database: "t2")
        == "postgres://u@h:1/t2?sslmode=disable")
    #expect(PostgresFixture.databaseURL("host=h", database: "t3") == "host=h dbname=t3")
  }
}
