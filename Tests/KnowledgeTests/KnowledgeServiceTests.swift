import Foundation
import KPProtocol
import KPRPC
import Testing

@testable import Knowledge

/// kp-knowledge end to end: real PostgreSQL, the service over mutual TLS on loopback.
@Suite("kp-knowledge over mutual TLS", .serialized)
struct KnowledgeServiceTests {
  typealias Harness = KnowledgeHarness

  private func expectError(
    _ code: RPCError.Code, _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async {
    do {
      try await body()
      Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
      #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
      Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
  }

  @Test("upsert stores, skips unchanged content, replaces changed content, deletes")
  func upsertLifecycle() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let first = try await harness.upsert(
        tenant, [Harness.document("page-1", title: "Release notes", text: "Alpha shipped.")])
      let id = try #require(first.first?.id)
      #expect(first.first?.version == 1 && first.first?.changed == true)

      let again = try await harness.upsert(
        tenant, [Harness.document("page-1", title: "Release notes", text: "Alpha shipped.")])
      #expect(again.first?.id == id && again.first?.version == 1)
      #expect(again.first?.changed == false)

      let changed = try await harness.upsert(
        tenant, [Harness.document("page-1", title: "Release notes", text: "Beta shipped.")])
      #expect(changed.first?.id == id && changed.first?.version == 2)
      let stored = try #require(try await harness.get(tenant, id: id))
      #expect(stored.text == "Beta shipped." && stored.version == 2)
      #expect(try await harness.search(tenant, "alpha").hits.isEmpty)
      #expect(try await harness.search(tenant, "beta").hits.map(\.documentId) == [id])

      let stats = try await harness.stats(tenant)
      #expect(stats.documents == 1 && stats.chunks == 1)
      #expect(stats.storedBytes == UInt64("Beta shipped.".utf8.count))
      #expect(stats.bySource["wiki"]?.documents == 1)

      var delete = Kp_Knowledge_V1_DeleteDocumentsRequest()
      delete.ids = [id]
      let deleted = try await harness.ingest.unary(
        Kp_Knowledge_V1_Knowledge.deleteDocuments, delete, options: Harness.options(tenant))
      #expect(deleted.deleted == 1)
      #expect(try await harness.search(tenant, "beta").hits.isEmpty)
      await expectError(.notFound) { _ = try await harness.get(tenant, id: id) }
      #expect(try await harness.stats(tenant).documents == 0)
    }
  }

  @Test("a new document needs an access list; an update without one keeps the stored one")
  func accessListRule() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      await expectError(.invalidArgument) {
        try await harness.upsert(
          tenant, [Harness.document("p", title: "Plan", text: "Secret plan.", access: nil)])
      }
      let stored = try await harness.upsert(
        tenant,
        [Harness.document("p", title: "Plan", text: "Secret plan.", access: Harness.groups("eng"))])
      let id = try #require(stored.first?.id)
      try await harness.upsert(
        tenant, [Harness.document("p", title: "Plan", text: "Secret plan v2.", access: nil)])
      #expect(try await harness.search(tenant, "secret", groups: ["sales"]).hits.isEmpty)
      #expect(try await harness.search(tenant, "secret", groups: ["eng"]).hits.count == 1)

      // A list given must admit someone, on a new document and on an update alike.
      for externalID in ["p", "q"] {
        await expectError(.invalidArgument) {
          try await harness.upsert(
            tenant,
            [
              Harness.document(
                externalID, title: "Plan", text: "Secret plan v3.",
                access: Kp_Knowledge_V1_AccessList())
            ])
        }
      }
      let kept = try #require(try await harness.get(tenant, id: id))
      #expect(kept.text == "Secret plan v2." && kept.access?.groups == ["eng"])
      #expect(kept.access?.tenantWide == false && kept.access?.users == [])
    }
  }

  @Test("usage counters follow inserts, replacements, no-op upserts and deletes")
  func usageCounters() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let other = try await harness.makeTenant("globex")
      #expect(try await harness.usage(tenant) == ["documents": 0, "stored_bytes": 0])

      let stored = try await harness.upsert(
        tenant,
        [
          Harness.document("a", title: "A", text: "12345"),
          Harness.document("b", title: "B", text: "1234567890"),
          Harness.document("c", title: "C", text: "abc", source: "drive"),
        ])
      #expect(try await harness.usage(tenant) == ["documents": 3, "stored_bytes": 18])

      // A replacement counts the change in size; an unchanged or access-only upsert nothing.
      try await harness.upsert(tenant, [Harness.document("a", title: "A", text: "12")])
      try await harness.upsert(tenant, [Harness.document("b", title: "B", text: "1234567890")])
      try await harness.upsert(
        tenant,
        [Harness.document("c", title: "C", text: "abc", source: "drive", access: nil)])
      try await harness.upsert(
        tenant,
        [
          Harness.document(
            "c", title: "C", text: "abc", source: "drive", access: Harness.groups("eng"))
        ])
      #expect(try await harness.usage(tenant) == ["documents": 3, "stored_bytes": 15])

      // Deletes by id and by external key; a key naming nothing changes nothing.
      try await harness.delete(tenant, ids: [try #require(stored.first?.id)])
      let byKey = try await harness.delete(
        tenant, external: [("drive", "c"), ("drive", "missing")])
      #expect(byKey == 1)
      #expect(try await harness.usage(tenant) == ["documents": 1, "stored_bytes": 10])
      let stats = try await harness.stats(tenant)
      #expect(stats.documents == 1 && stats.storedBytes == 10)
      #expect(try await harness.usage(other) == ["documents": 0, "stored_bytes": 0])
    }
  }

  @Test("the tenant's text-search configuration indexes and parses; setting it reindexes")
  func searchConfiguration() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let other = try await harness.makeTenant("globex")
      for id in [tenant, other] {
        try await harness.upsert(
          id, [Harness.document("r", title: "Runs", text: "The jobs were running nightly.")])
      }
      #expect(try await harness.stats(tenant).searchConfiguration == "english")
      #expect(try await harness.search(tenant, "run").estimatedTotal == 1)
      #expect(try await harness.search(tenant, "the").estimatedTotal == 0)

      var request = Kp_Knowledge_V1_SetSearchConfigurationRequest()
      request.configuration = "simple"
      let set = try await harness.gateway.unary(
        Kp_Knowledge_V1_Knowledge.setSearchConfiguration, request,
        options: Harness.options(tenant))
      #expect(set.configuration == "simple" && set.chunksReindexed == 1)
      #expect(try await harness.stats(tenant).searchConfiguration == "simple")

      // No stemming and no stop words now, for stored and new documents alike.
      try await harness.upsert(
        tenant, [Harness.document("s", title: "Runs", text: "The cats were sleeping.")])
      #expect(try await harness.search(tenant, "run").estimatedTotal == 0)
      #expect(try await harness.search(tenant, "running").estimatedTotal == 1)
      #expect(try await harness.search(tenant, "the").estimatedTotal == 2)
      #expect(try await harness.search(tenant, "cat").estimatedTotal == 0)
      #expect(try await harness.search(other, "run").estimatedTotal == 1)

      let again = try await harness.gateway.unary(
        Kp_Knowledge_V1_Knowledge.setSearchConfiguration, request,
        options: Harness.options(tenant))
      #expect(again.chunksReindexed == 0)
      for name in ["klingon", "", "english; DROP TABLE chunks"] {
        request.configuration = name
        await expectError(.invalidArgument) {
          _ = try await harness.gateway.unary(
            Kp_Knowledge_V1_Knowledge.setSearchConfiguration, request,
            options: Harness.options(tenant))
        }
      }
      #expect(try await harness.stats(tenant).searchConfiguration == "simple")
    }
  }

  @Test("a snippet escapes the document's own markup; only matches are marked")
  func snippetsAreEscaped() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      _ = try await harness.upsert(
        tenant,
        [
          Harness.document(
            "hostile", title: "Injection",
            text: "Injection zorblax & \"quotes\" 'too' <img src=x onerror=alert(1)> and "
              + "<mark>fake</mark> marks, \u{2}markers\u{3}.")
        ])
      let snippet = try #require(try await harness.search(tenant, "zorblax").hits.first?.snippet)
      #expect(snippet.contains("<mark>zorblax</mark>"))
      #expect(snippet.contains("&lt;img src=x onerror=alert(1)&gt;"))
      #expect(!snippet.contains("<img"))
      #expect(!snippet.contains("\u{2}") && !snippet.contains("\u{3}"))
      #expect(snippet.contains("&amp;") && snippet.contains("&quot;quotes&quot;"))
      #expect(snippet.contains("&#39;too&#39;"))
      let tags = snippet.components(separatedBy: "<").count - 1
      #expect(tags == 2 * snippet.components(separatedBy: "<mark>").dropFirst().count)
    }
  }

  @Test("snippet markup turns the headline's markers into tags and escapes the rest")
  func snippetMarkup() {
    #expect(
      SnippetMarkup.html(fromHeadline: "a \u{2}b\u{3} <c> & \u{3}d\u{2}e")
        == "a <mark>b</mark> &lt;c&gt; &amp; d<mark>e</mark>")
  }

  @Test("ranking, phrases, OR, exclusion, snippets")
  func searchSyntax() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let results = try await harness.upsert(
        tenant,
        [
          Harness.document(
            "body", title: "Cluster notes",
            text: "How we run kubernetes in production, with care."),
          Harness.document("title", title: "Kubernetes guide", text: "Start here for pods."),
          Harness.document("fox", title: "Animals", text: "The quick brown fox jumps."),
          Harness.document("dog", title: "More animals", text: "A brown quick dog sleeps."),
        ])
      let ids = Dictionary(uniqueKeysWithValues: results.map { ($0.externalId, $0.id) })

      let ranked = try await harness.search(tenant, "kubernetes")
      #expect(ranked.hits.map(\.documentId) == [ids["title"], ids["body"]])
      #expect(ranked.estimatedTotal == 2)
      #expect(ranked.hits.last?.snippet.contains("<mark>kubernetes</mark>") == true)

      let phrase = try await harness.search(tenant, "\"quick brown\"")
      #expect(phrase.hits.map(\.documentId) == [ids["fox"]])

      let either = try await harness.search(tenant, "fox OR dog")
      #expect(Set(either.hits.map(\.documentId)) == [ids["fox"], ids["dog"]])

      let excluded = try await harness.search(tenant, "brown -fox")
      #expect(excluded.hits.map(\.documentId) == [ids["dog"]])

      await expectError(.invalidArgument) { _ = try await harness.search(tenant, "   ") }
    }
  }

  @Test("filters and pagination")
  func filtersAndPages() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      var documents: [Kp_Knowledge_V1_Document] = []
      for index in 0..<7 {
        documents.append(
          Harness.document(
            "n\(index)", title: "Note \(index)", text: "Quarterly report number \(index).",
            source: index < 4 ? "wiki" : "drive",
            contentType: index % 2 == 0 ? "text/plain" : "text/html",
            modifiedAtMicros: Int64(index + 1) * 1_000_000_000_000))
      }
      try await harness.upsert(tenant, documents)

      var seen: [String] = []
      var token = ""
      var pages = 0
      repeat {
        let page = try await harness.search(tenant, "report", pageSize: 3, pageToken: token)
        #expect(page.estimatedTotal == 7)
        seen += page.hits.map(\.documentId)
        token = page.nextPageToken
        pages += 1
      } while !token.isEmpty && pages < 10
      #expect(pages == 3 && seen.count == 7 && Set(seen).count == 7)

      var filters = Kp_Knowledge_V1_SearchFilters()
      filters.sources = ["drive"]
      #expect(try await harness.search(tenant, "report", filters: filters).estimatedTotal == 3)
      filters.contentTypes = ["text/plain"]
      #expect(try await harness.search(tenant, "report", filters: filters).estimatedTotal == 2)
      filters = Kp_Knowledge_V1_SearchFilters()
      filters.modifiedAfterMicros = 3_000_000_000_000
      filters.modifiedBeforeMicros = 5_000_000_000_000
      let ranged = try await harness.search(tenant, "report", filters: filters)
      #expect(Set(ranged.hits.map(\.title)) == ["Note 2", "Note 3"])
    }
  }

  @Test("a group's document is invisible outside the group, in hits and total")
  func accessControl() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      var personal = Kp_Knowledge_V1_AccessList()
      personal.users = ["u-bob"]
      try await harness.upsert(
        tenant,
        [
          Harness.document(
            "eng", title: "Roadmap", text: "Roadmap for eng.",
            access: Harness.groups("eng")),
          Harness.document("all", title: "Roadmap summary", text: "Roadmap for all."),
          Harness.document(
            "bob", title: "Roadmap notes", text: "Bob's roadmap.",
            access: personal),
        ])
      let outsider = try await harness.search(tenant, "roadmap", user: "u-ada", groups: ["sales"])
      #expect(outsider.hits.map(\.title) == ["Roadmap summary"])
      #expect(outsider.estimatedTotal == 1)
      // The same user, once added to eng, sees the document in hits and total.
      let member = try await harness.search(
        tenant, "roadmap", user: "u-ada", groups: ["sales", "eng"])
      #expect(Set(member.hits.map(\.title)) == ["Roadmap", "Roadmap summary"])
      #expect(member.estimatedTotal == 2)
      let bob = try await harness.search(tenant, "roadmap", user: "u-bob")
      #expect(Set(bob.hits.map(\.title)) == ["Roadmap summary", "Roadmap notes"])

      // An access-list change shows on the next search.
      try await harness.upsert(
        tenant,
        [
          Harness.document(
            "eng", title: "Roadmap", text: "Roadmap for eng.",
            access: Harness.groups("eng", "sales"))
        ])
      #expect(
        try await harness.search(tenant, "roadmap", user: "u-ada", groups: ["sales"])
          .estimatedTotal == 2)
    }
  }

  @Test("another tenant's document is not found, and a get or delete changes nothing")
  func crossTenant() async throws {
    try await Harness.with { harness in
      let acme = try await harness.makeTenant("acme")
      let globex = try await harness.makeTenant("globex")
      let stored = try await harness.upsert(
        globex, [Harness.document("secret", title: "Globex merger", text: "Confidential.")])
      let id = try #require(stored.first?.id)

      await expectError(.notFound) { _ = try await harness.get(acme, id: id) }
      var delete = Kp_Knowledge_V1_DeleteDocumentsRequest()
      delete.ids = [id]
      await expectError(.notFound) {
        _ = try await harness.ingest.unary(
          Kp_Knowledge_V1_Knowledge.deleteDocuments, delete, options: Harness.options(acme))
      }
      try await harness.upsert(
        acme, [Harness.document("plan", title: "Acme plan", text: "Our merger plan.")])
      for query in ["\"Globex merger\"", "Globex merger", "globex OR merger"] {
        let found = try await harness.search(acme, query)
        #expect(!found.hits.contains { $0.documentId == id || $0.title == "Globex merger" })
      }
      #expect(try await harness.search(acme, "\"Globex merger\"").estimatedTotal == 0)
      #expect(try await harness.search(acme, "merger").estimatedTotal == 1)
      #expect(try await harness.get(globex, id: id)?.title == "Globex merger")
      #expect(try await harness.search(globex, "merger").estimatedTotal == 1)
    }
  }

  @Test("list pages through a source; a user's listing leaves out what they may not see")
  func listAndExternalKeys() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("listing")
      let wiki = (1...5).map { index in
        Harness.document("wiki-\(index)", title: "Wiki page \(index)", text: "Body \(index).")
      }
      let restricted = Harness.document(
        "wiki-secret", title: "Salaries", text: "Only for hr.", access: Harness.groups("hr"))
      let share = Harness.document(
        "share-1", title: "Share file", text: "On the share.", source: "fileshare")
      try await harness.upsert(tenant, wiki + [restricted, share])

      // The ingest identity lists every document of the source, page by page.
      var request = Kp_Knowledge_V1_ListDocumentsRequest()
      request.source = "wiki"
      request.pageSize = 2
      request.omitText = true
      var seen: [String] = []
      var pages = 0
      repeat {
        let page = try await harness.ingest.unary(
          Kp_Knowledge_V1_Knowledge.listDocuments, request, options: Harness.options(tenant))
        pages += 1
        #expect(page.documents.count <= 2)
        #expect(page.documents.allSatisfy { $0.text.isEmpty && $0.source == "wiki" })
        seen += page.documents.map(\.externalId)
        request.pageToken = page.nextPageToken
      } while !request.pageToken.isEmpty && pages < 10
      #expect(Set(seen) == Set((1...5).map { "wiki-\($0)" } + ["wiki-secret"]))
      #expect(seen.count == 6)
      #expect(pages == 3)

      // A user outside hr, listing through the gateway, does not see the restricted page.
      var asUser = Kp_Knowledge_V1_ListDocumentsRequest()
      asUser.source = "wiki"
      let visible = try await harness.gateway.unary(
        Kp_Knowledge_V1_Knowledge.listDocuments, asUser,
        options: Harness.options(tenant, user: "u-bob", groups: ["eng"]))
      #expect(visible.documents.count == 5)
      #expect(!visible.documents.contains { $0.externalId == "wiki-secret" })

      // A document can be read by its source and external id.
      var byKey = Kp_Knowledge_V1_GetDocumentRequest()
      var key = Kp_Knowledge_V1_ExternalKey()
      key.source = "fileshare"
      key.externalId = "share-1"
      byKey.key = .external(key)
      let found = try await harness.ingest.unary(
        Kp_Knowledge_V1_Knowledge.getDocument, byKey, options: Harness.options(tenant))
      #expect(found.document?.title == "Share file")
      #expect(found.document?.text == "On the share.")
    }
  }
}
