-- Filtered search. A filter that keeps few rows (a topic, a source, a kind
-- of document) starves the HNSW scan: it walks the graph's nearest rows and
-- drops most of them, and recall falls (0.79 at 1% of 100k rows, measured
-- in docs/benchmarks.md). Such a query is answered exactly instead, over
-- the rows its filter keeps, found through the indexes below. Which
-- queries qualify is read from filter_df: how many chunks hold each topic,
-- source and kind, kept exact by triggers in the writer's transaction, as
-- term_df is for terms.
CREATE TABLE filter_df (
    field text NOT NULL CHECK (field IN ('topics', 'sources', 'kinds')),
    value text NOT NULL,
    n     bigint NOT NULL,
    PRIMARY KEY (field, value)
);

INSERT INTO filter_df (field, value, n)
SELECT 'topics', t, count(*) FROM chunks, unnest(topics) t GROUP BY t
UNION ALL
SELECT 'sources', source_key, count(*) FROM chunks GROUP BY source_key
UNION ALL
SELECT 'kinds', kind, count(*) FROM chunks GROUP BY kind;

CREATE INDEX chunks_topics_idx ON chunks USING gin (topics);
CREATE INDEX chunks_source_idx ON chunks (source_key);
CREATE INDEX chunks_kind_idx ON chunks (kind);

CREATE FUNCTION chunks_filter_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE filter_df f SET n = f.n - o.n
        FROM (SELECT v.field, v.value, count(*) AS n
              FROM old_rows r CROSS JOIN LATERAL (
                  SELECT 'topics', t FROM unnest(r.topics) t
                  UNION ALL SELECT 'sources', r.source_key
                  UNION ALL SELECT 'kinds', r.kind) v(field, value)
              GROUP BY v.field, v.value) o
        WHERE f.field = o.field AND f.value = o.value;
        DELETE FROM filter_df WHERE n <= 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO filter_df (field, value, n)
        SELECT v.field, v.value, count(*)
        FROM new_rows r CROSS JOIN LATERAL (
            SELECT 'topics', t FROM unnest(r.topics) t
            UNION ALL SELECT 'sources', r.source_key
            UNION ALL SELECT 'kinds', r.kind) v(field, value)
        GROUP BY v.field, v.value
        ON CONFLICT (field, value) DO UPDATE SET n = filter_df.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION chunks_filter_stats_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE filter_df;
    RETURN NULL;
END $$;

CREATE TRIGGER chunks_filter_stats_truncate AFTER TRUNCATE ON chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunks_filter_stats_truncate();
CREATE TRIGGER chunks_filter_stats_insert AFTER INSERT ON chunks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chunks_filter_stats();
CREATE TRIGGER chunks_filter_stats_delete AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chunks_filter_stats();
CREATE TRIGGER chunks_filter_stats_update AFTER UPDATE ON chunks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chunks_filter_stats();

---- create above / drop below ----

DROP TRIGGER chunks_filter_stats_truncate ON chunks;
DROP FUNCTION chunks_filter_stats_truncate();
DROP TRIGGER chunks_filter_stats_update ON chunks;
DROP TRIGGER chunks_filter_stats_delete ON chunks;
DROP TRIGGER chunks_filter_stats_insert ON chunks;
DROP FUNCTION chunks_filter_stats();
DROP INDEX chunks_kind_idx;
DROP INDEX chunks_source_idx;
DROP INDEX chunks_topics_idx;
DROP TABLE filter_df;
