-- How the store keeps embeddings, fixed when a model is first bound:
-- vector (4-byte floats) or halfvec (2-byte floats, half the table and
-- index), and the HNSW build parameters (NULL: pgvector's defaults, m 16
-- and ef_construction 64). Stores bound before this migration keep vector.
ALTER TABLE index_meta
    ADD COLUMN vector_type text NOT NULL DEFAULT 'vector' CHECK (vector_type IN ('vector', 'halfvec')),
    ADD COLUMN hnsw_m integer CHECK (hnsw_m BETWEEN 2 AND 100),
    ADD COLUMN hnsw_ef_construction integer CHECK (hnsw_ef_construction BETWEEN 4 AND 1000);

---- create above / drop below ----

ALTER TABLE index_meta
    DROP COLUMN vector_type,
    DROP COLUMN hnsw_m,
    DROP COLUMN hnsw_ef_construction;
