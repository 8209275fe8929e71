-- Students' drill attempts, kept whole as JSON with the columns that
-- select them; version guards against saves from a stale copy.
CREATE TABLE drill_attempts (
    id         text PRIMARY KEY,
    student    text NOT NULL,
    case_id    text NOT NULL,
    status     text NOT NULL,
    version    integer NOT NULL,
    started    timestamptz NOT NULL,
    attempt    jsonb NOT NULL
);

CREATE INDEX drill_attempts_student ON drill_attempts (student, started);
CREATE INDEX drill_attempts_case ON drill_attempts (case_id, started);
