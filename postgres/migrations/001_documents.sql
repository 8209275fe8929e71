-- Documents and their chunks. The embedding column gets its dimension and
-- HNSW index when the store is first bound to an embedding model (see
-- DB.Init), because the dimension depends on the model chosen at run time.
-- In public, so that dropping a store's own schema never drops the type
-- other schemas' columns use.
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;

CREATE TABLE index_meta (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    embed_model text NOT NULL,
    dim         integer NOT NULL CHECK (dim > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id         text PRIMARY KEY,
    kind       text NOT NULL,
    title      text NOT NULL DEFAULT '',
    source     text NOT NULL DEFAULT '',
    hash       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX documents_source_idx ON documents (source) WHERE source <> '';
CREATE INDEX documents_hash_idx ON documents (hash);
CREATE INDEX documents_kind_idx ON documents (kind);

CREATE TABLE chunks (
    id           text PRIMARY KEY,
    doc_id       text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ord          integer NOT NULL,
    kind         text NOT NULL,
    langs        text[] NOT NULL,
    title        text NOT NULL DEFAULT '',
    heading_path text[] NOT NULL DEFAULT '{}',
    page         integer NOT NULL DEFAULT 0,
    body         text NOT NULL,
    topics       text[] NOT NULL DEFAULT '{}',
    year         integer NOT NULL DEFAULT 0,
    source_key   text NOT NULL DEFAULT '',
    superseded   boolean NOT NULL DEFAULT false,
    citation     jsonb NOT NULL DEFAULT '{}',
    -- terms is a tsvector literal built by the analysis package (segmented
    -- Chinese, stemmed English); PostgreSQL's own parser is not used, so
    -- lexical matching does not depend on the database locale.
    terms        text NOT NULL DEFAULT '',
    tsv          tsvector GENERATED ALWAYS AS (terms::tsvector) STORED,
    embedding    vector
);
CREATE INDEX chunks_doc_idx ON chunks (doc_id);
CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);

---- create above / drop below ----

DROP TABLE chunks;
DROP TABLE documents;
DROP TABLE index_meta;
