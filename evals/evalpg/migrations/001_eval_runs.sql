-- Evaluation runs kept in PostgreSQL, so that workers on several machines
-- can share one run and a crashed run resumes without redoing items.
CREATE TABLE eval_runs (
    id         text PRIMARY KEY,
    meta       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE eval_records (
    run_id     text NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    task       text NOT NULL,
    model      text NOT NULL,
    item       text NOT NULL,
    record     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, task, model, item)
);
