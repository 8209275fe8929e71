-- BM25 statistics for lexical ranking: how many chunks hold each term, how
-- many chunks there are and how many terms they hold in all. ts_rank has no
-- inverse document frequency, so searches re-score ts_rank's candidates with
-- BM25 from these figures. Triggers keep them exact on every insert, update
-- delete and truncate (cascaded deletes included), in the writer's
-- transaction.
CREATE TABLE term_df (
    term text PRIMARY KEY,
    df   integer NOT NULL
);

CREATE TABLE corpus_stats (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    chunks    bigint NOT NULL,
    terms     bigint NOT NULL
);

INSERT INTO term_df (term, df)
SELECT u.lexeme, count(*) FROM chunks c, unnest(c.tsv) u GROUP BY u.lexeme;

INSERT INTO corpus_stats (chunks, terms)
SELECT count(DISTINCT c.id), coalesce(sum(cardinality(u.positions)), 0)
FROM chunks c LEFT JOIN LATERAL unnest(c.tsv) u ON true;

CREATE FUNCTION chunks_term_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE term_df t SET df = t.df - o.n
        FROM (SELECT u.lexeme, count(*) AS n FROM old_rows r, unnest(r.tsv) u GROUP BY u.lexeme) o
        WHERE t.term = o.lexeme;
        DELETE FROM term_df t
        USING (SELECT DISTINCT u.lexeme FROM old_rows r, unnest(r.tsv) u) o
        WHERE t.term = o.lexeme AND t.df <= 0;
        UPDATE corpus_stats SET chunks = chunks - (SELECT count(*) FROM old_rows),
            terms = terms - (SELECT coalesce(sum(cardinality(u.positions)), 0) FROM old_rows r, unnest(r.tsv) u);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO term_df (term, df)
        SELECT u.lexeme, count(*) FROM new_rows r, unnest(r.tsv) u GROUP BY u.lexeme
        ON CONFLICT (term) DO UPDATE SET df = term_df.df + EXCLUDED.df;
        UPDATE corpus_stats SET chunks = chunks + (SELECT count(*) FROM new_rows),
            terms = terms + (SELECT coalesce(sum(cardinality(u.positions)), 0) FROM new_rows r, unnest(r.tsv) u);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION chunks_term_stats_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE term_df;
    UPDATE corpus_stats SET chunks = 0, terms = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER chunks_term_stats_truncate AFTER TRUNCATE ON chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunks_term_stats_truncate();
CREATE TRIGGER chunks_term_stats_insert AFTER INSERT ON chunks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chunks_term_stats();
CREATE TRIGGER chunks_term_stats_delete AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chunks_term_stats();
CREATE TRIGGER chunks_term_stats_update AFTER UPDATE ON chunks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chunks_term_stats();

---- create above / drop below ----

DROP TRIGGER chunks_term_stats_truncate ON chunks;
DROP FUNCTION chunks_term_stats_truncate();
DROP TRIGGER chunks_term_stats_update ON chunks;
DROP TRIGGER chunks_term_stats_delete ON chunks;
DROP TRIGGER chunks_term_stats_insert ON chunks;
DROP FUNCTION chunks_term_stats();
DROP TABLE corpus_stats;
DROP TABLE term_df;
