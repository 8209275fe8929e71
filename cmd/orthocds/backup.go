package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/embedstore"
)

// manifest lists a backup's files with their SHA-256.
type manifest struct {
	Created time.Time         `json:"created"`
	Files   map[string]string `json:"files"`
}

// runBackup archives the embedded data directory (the index with the
// hospital's documents, the audit trail, CDS feedback and API keys) into
// one .tar.gz with a manifest of SHA-256 sums. The stores are append-only
// logs, so a backup taken while the server runs holds every record
// written before it, and at most a torn last record, dropped on restore.
// With PostgreSQL, back up the database with pg_dump (see the README).
func runBackup(cfg Config, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (env ORTHOCDS_DATA)")
	out := flags.String("out", "", "the archive to write (.tar.gz)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return orthocds.Invalid("out", "names the archive to write")
	}
	if cfg.DatabaseURL != "" {
		return errors.New("backup: with DATABASE_URL the knowledge base, audit trail and evaluation runs are in PostgreSQL: " +
			"use pg_dump -Fc (see the README); this command backs up the embedded data directory")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	m := manifest{Created: time.Now().UTC(), Files: map[string]string{}}
	err = filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(cfg.DataDir, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m.Files[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o600, Size: int64(len(b)), ModTime: m.Created}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err == nil {
		b, _ := json.MarshalIndent(m, "", "  ")
		if err = tw.WriteHeader(&tar.Header{Name: "MANIFEST.json", Mode: 0o600, Size: int64(len(b)), ModTime: m.Created}); err == nil {
			_, err = tw.Write(b)
		}
	}
	for _, c := range []io.Closer{tw, gz, f} {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(stdout, "backup: %d files from %s in %s\n", len(m.Files), cfg.DataDir, *out)
	return nil
}

// runRestore unpacks a backup into an empty data directory, checks every
// file against the manifest, then checks that the index opens and that
// the audit trail's chain holds.
func runRestore(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("restore", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory to restore into; must be empty or absent (env ORTHOCDS_DATA)")
	in := flags.String("in", "", "the archive (.tar.gz) written by orthocds backup")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if entries, err := os.ReadDir(cfg.DataDir); err == nil && len(entries) > 0 {
		return orthocds.Invalid("data", "%s is not empty; restore into a new directory", cfg.DataDir)
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return orthocds.Invalid("in", "is not a gzip archive")
	}
	tr := tar.NewReader(gz)
	sums := map[string]string{}
	var m manifest
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return orthocds.Invalid("in", "the archive is damaged: %v", err)
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return orthocds.Invalid("in", "the archive names a path outside the data directory: %s", h.Name)
		}
		b, err := io.ReadAll(io.LimitReader(tr, 64<<30))
		if err != nil {
			return err
		}
		if h.Name == "MANIFEST.json" {
			if err := json.Unmarshal(b, &m); err != nil {
				return orthocds.Invalid("in", "the manifest is damaged")
			}
			continue
		}
		sum := sha256.Sum256(b)
		sums[h.Name] = hex.EncodeToString(sum[:])
		p := filepath.Join(cfg.DataDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return err
		}
	}
	if len(m.Files) == 0 {
		return orthocds.Invalid("in", "the archive has no manifest: not an OrthoCDS backup")
	}
	for name, want := range m.Files {
		if sums[name] != want {
			return fmt.Errorf("restore: %s does not match the manifest (damaged archive)", name)
		}
	}
	st, err := embedstore.Open(filepath.Join(cfg.DataDir, "store"))
	if err != nil {
		return fmt.Errorf("restore: the index does not open: %w", err)
	}
	stats, err := st.Stats(ctx)
	st.Close()
	if err != nil {
		return err
	}
	rows := 0
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "audit.jsonl")); err == nil {
		l, err := audit.OpenFile(filepath.Join(cfg.DataDir, "audit.jsonl"))
		if err != nil {
			return err
		}
		rows, err = l.Verify(ctx)
		l.Close()
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	fmt.Fprintf(stdout, "restored %d files into %s: index of %d chunks, audit trail of %d rows intact\n", len(m.Files), cfg.DataDir, stats.Chunks, rows)
	return nil
}
