// Package audit keeps the audit trail: every answer, card, prediction and
// feedback, with who asked, when, which guideline entries (and the corpus
// version), which model and digest, which predictor version, and a SHA-256
// of the input, never the input itself. Rows are chained: each row's hash
// covers its body and the previous row's hash, so a row changed, removed
// or inserted afterwards breaks the chain, and Verify finds where.
//
// FileLog keeps the trail in a JSON-lines file (the embedded store); PGLog
// in PostgreSQL. Appends are serialised, so the chain has one order.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/orthocds/orthocds/answer"
)

// Kinds of audited event.
const (
	KindAnswer     = "answer"
	KindCards      = "cds-cards"
	KindPrediction = "prediction"
	KindFeedback   = "cds-feedback"
	KindView       = "patient-view"
	// KindRefused is a CDS Hooks call refused at the trust boundary (no
	// or bad credentials, a role without patient context, a fhirServer
	// off the allow-list): who, which service and why.
	KindRefused = "cds-refused"
	// KindTool is one MCP tool call (Service names the tool).
	KindTool = "mcp-tool"
)

// Event is what is recorded: identifiers and hashes only.
type Event struct {
	At        time.Time `json:"at"`
	Principal string    `json:"principal"`
	Role      string    `json:"role"`
	// Remote is the network address a refused call came from.
	Remote string `json:"remote,omitempty"`
	Kind   string `json:"kind"`
	// InputHash is the SHA-256 of the request as received.
	InputHash string `json:"input_sha256"`
	// Entries are the guideline entries shown, with the corpus version.
	Entries       []string `json:"entries,omitempty"`
	CorpusVersion string   `json:"corpus_version,omitempty"`
	Model         string   `json:"model,omitempty"`
	ModelDigest   string   `json:"model_digest,omitempty"`
	Predictor     string   `json:"predictor,omitempty"`
	// PredictorVersion is the model artefact's content hash.
	PredictorVersion string `json:"predictor_version,omitempty"`
	// Service is the CDS service; Outcome what happened (answer mode,
	// feedback outcome, number of cards).
	Service string `json:"service,omitempty"`
	Outcome string `json:"outcome,omitempty"`
}

// Row is a stored event in the chain.
type Row struct {
	Seq  int64  `json:"seq"`
	Body string `json:"body"` // the event's JSON, as hashed
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// Log is an audit trail.
type Log interface {
	Append(ctx context.Context, e Event) error
	// Verify walks the chain; it returns how many rows it checked and, at
	// the first broken row, an error naming its sequence number.
	Verify(ctx context.Context) (int, error)
}

// HashInput is the SHA-256 of an input, for Event.InputHash.
func HashInput(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// chain computes a row's hash from the previous hash and its body.
func chain(prev, body string) string {
	sum := sha256.Sum256([]byte(prev + "\n" + body))
	return hex.EncodeToString(sum[:])
}

// genesis is the "previous hash" of the first row.
const genesis = "orthocds-audit-v1"

func encode(e Event) (string, error) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	b, err := json.Marshal(e)
	return string(b), err
}

// BrokenError names the first row where the chain does not hold.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit trail broken at row %d: %s", e.Seq, e.Reason)
}

// verifyRows checks rows in order, as read from any store.
func verifyRows(next func() (Row, bool, error)) (int, error) {
	prev := genesis
	n := 0
	var lastSeq int64
	for {
		r, ok, err := next()
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		switch {
		case n > 0 && r.Seq != lastSeq+1:
			return n, &BrokenError{r.Seq, fmt.Sprintf("follows row %d: a row is missing", lastSeq)}
		case r.Prev != prev:
			return n, &BrokenError{r.Seq, "its previous-hash does not match the row before"}
		case chain(r.Prev, r.Body) != r.Hash:
			return n, &BrokenError{r.Seq, "its content does not match its hash: changed after it was written"}
		}
		var e Event
		if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
			return n, &BrokenError{r.Seq, "its body is not an audit event"}
		}
		prev, lastSeq = r.Hash, r.Seq
		n++
	}
}

// Answers records the answers of package answer in a Log; it implements
// answer.Auditor.
type Answers struct {
	Log           Log
	CorpusVersion string
}

// Record implements answer.Auditor.
func (a Answers) Record(ctx context.Context, r answer.AuditRecord) error {
	return a.Log.Append(ctx, Event{At: r.At, Principal: r.Principal, Role: r.Role, Kind: KindAnswer, InputHash: r.InputHash,
		Entries: r.EntryIDs, CorpusVersion: a.CorpusVersion, Model: r.Model, ModelDigest: r.ModelDigest, Outcome: r.Mode})
}
