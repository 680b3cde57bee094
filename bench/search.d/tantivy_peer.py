"""The peer of bench/search: tantivy (PyPI) indexing the same chunks, in-process, BM25.

Reads the chunks kp-bench-knowledge wrote (one JSON object a line: doc, title, headings, text)
and the queries (one JSON object a line, with the query in tantivy's syntax), indexes the chunks
with English stemming (title boosted above headings above text, as the store weighs them), and
runs every query `passes` times at concurrency 1 and 16 (threads), top 10 with the hit count
and the stored document key of each hit read back. Repeats `rounds` times; prints one JSON
object with the median round's figures, in milliseconds.
"""

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time

import tantivy


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int((len(ordered) - 1) * fraction + 0.5))]


def build_index(path, directory):
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc", stored=True, tokenizer_name="raw")
    for field in ("title", "headings", "text"):
        builder.add_text_field(field, stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(builder.build(), path=directory)
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    count = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            chunk = json.loads(line)
            writer.add_document(
                tantivy.Document(
                    doc=chunk["doc"],
                    title=chunk["title"],
                    headings=chunk["headings"],
                    text=chunk["text"],
                )
            )
            count += 1
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index, count


def parse(index, text):
    fields = ["title", "headings", "text"]
    try:
        return index.parse_query(text, fields, field_boosts={"title": 10.0, "headings": 4.0})
    except TypeError:
        return index.parse_query(text, fields)


def run_round(index, queries, passes, concurrency):
    searcher = index.searcher()
    total = len(queries) * passes
    position = [0]
    lock = threading.Lock()
    samples = []

    def worker():
        mine = []
        while True:
            with lock:
                item = position[0]
                position[0] += 1
            if item >= total:
                break
            text = queries[item % len(queries)]
            begun = time.perf_counter()
            result = searcher.search(parse(index, text), 10, count=True)
            for _, address in result.hits:
                searcher.doc(address)["doc"]
            mine.append((time.perf_counter() - begun) * 1000)
        with lock:
            samples.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return percentile(samples, 0.5), percentile(samples, 0.99), len(samples) / seconds


def main():
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--chunks", required=True)
    arguments.add_argument("--queries", required=True)
    arguments.add_argument("--passes", type=int, default=2)
    arguments.add_argument("--rounds", type=int, default=3)
    options = arguments.parse_args()

    with open(options.queries, encoding="utf-8") as lines:
        queries = [json.loads(line)["tantivy"] for line in lines if line.strip()]
    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        index, count = build_index(options.chunks, directory)
        figures["index_seconds"] = time.perf_counter() - started
        figures["chunks"] = count
        for query in queries:
            parse(index, query)
        run_round(index, queries, 1, 1)
        for concurrency in (1, 16):
            rounds = [
                run_round(index, queries, options.passes, concurrency)
                for _ in range(options.rounds)
            ]
            figures[f"c{concurrency}_p50_ms"] = statistics.median(r[0] for r in rounds)
            figures[f"c{concurrency}_p99_ms"] = statistics.median(r[1] for r in rounds)
            figures[f"c{concurrency}_qps"] = statistics.median(r[2] for r in rounds)
    json.dump(figures, sys.stdout)
    print()


if __name__ == "__main__":
    main()
