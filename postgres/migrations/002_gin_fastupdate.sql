-- Bulk loads leave rows in the GIN pending list, and every lexical query
-- then scans that list; index them on insert instead.
ALTER INDEX chunks_tsv_idx SET (fastupdate = off);

---- create above / drop below ----

ALTER INDEX chunks_tsv_idx RESET (fastupdate);
