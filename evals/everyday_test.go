package evals

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"slices"
	"testing"

	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/postgres/pgtest"
	"github.com/orthocds/orthocds/rag"
)

// everydayTestSHA256 freezes the everyday-wording test split: no change is
// tuned on it, and any edit to it fails TestEverydaySetFrozen. It was
// written, with the tuning split, before any work on the concept layer.
const everydayTestSHA256 = "e0198cfaf5c39123ed2388cbe9b10dcbe2ccb7cca49798ae1f6f837ef8fcd5ee"

// everydayHoldoutSHA256 freezes the held-out split: 52 questions (26 per
// language, IDs n751-n776 and q751-q776, the same questions asked in each
// language, aimed at entries asked about least, mostly as case notes; four
// more were dropped before measurement, each too close in meaning to a
// tuning question) written on 2026-12-07 after the twenty-fifth split
// joined the tuning split, and committed before their first measurement,
// to show
// how far the concept layer, the asks, the questions asked before and the
// ranking stages carry to wording nobody has tuned on.
// Earlier held-out splits, read and then moved into tuning, measured at
// first (MRR@10 en / zh, recall@10 en / zh): n001-n030, q001-q030 0.828 /
// 0.681, 0.847 / 0.753; n031-n060, q031-q060 0.831 / 0.797, 0.925 /
// 0.906; n061-n090, q061-q090 0.813 / 0.785, 0.807 / 0.806; n091-n120,
// q091-q120 0.736 / 0.734, 0.800 / 0.744; n121-n150, q121-q150 0.756 /
// 0.709, 0.858 / 0.811; n151-n180, q151-q180 0.794 / 0.705, 0.850 /
// 0.822; n181-n210, q181-q210 0.794 / 0.771, 0.856 / 0.911; n211-n240,
// q211-q240 0.643 / 0.661, 0.789 / 0.794; n241-n270, q241-q270 0.793 /
// 0.706, 0.894 / 0.794; n271-n300, q271-q300 0.727 / 0.841, 0.811 / 0.872;
// n301-n330, q301-q330 0.844 / 0.752, 0.806 / 0.878; n331-n360,
// q331-q360 0.547 / 0.604, 0.811 / 0.850; n361-n390, q361-q390 0.814 /
// 0.851, 0.847 / 0.908 (0.869 / 0.961, 0.908 / 0.964 once the tuning
// split's questions expanded the index, measured before its results were
// read); n391-n420, q391-q420 0.791 / 0.764, 0.861 / 0.881; n421-n450,
// q421-q450 0.872 / 0.928, 0.939 / 0.917; n451-n480, q451-q480 0.696 /
// 0.843, 0.817 / 0.917; n481-n510, q481-q510 0.744 / 0.811, 0.917 / 0.967
// (0.785 / 0.821 once the built-in embedder counted 0.03, measured after
// its misses were read); n511-n540, q511-q540 0.685 / 0.824, 0.867 /
// 0.917; n541-n570, q541-q570 0.819 / 0.776, 0.967 / 0.883; n571-n600,
// q571-q600 0.734 / 0.663, 0.878 / 0.867; n601-n630, q601-q630 0.765 /
// 0.750, 0.933 / 0.950; n631-n660, q631-q660 0.833 / 0.828, 0.900 /
// 0.917; n661-n690, q661-q690 0.883 / 0.883, 0.967 / 0.983; n691-n720,
// q691-q720 0.718 / 0.829, 0.933 / 1.000; n721-n750, q721-q750 0.719 /
// 0.734, 0.967 / 0.933. A split whose
// misses are read is tuning data (and, since 2026-12-06, part of the
// index); the next one is written fresh.
const everydayHoldoutSHA256 = "a0ad11f7588d4a73e57523ae2d720d84c912269b9a8197e7ebaef108b8e47c56"

// The everyday-wording set: at least 300 questions, half in each
// language, every gold entry current; the test split (at least 100) is
// frozen by hash and shares no question with the tuning split.
func TestEverydaySetFrozen(t *testing.T) {
	checkFrozen(t, everydayTune, map[string]string{"everyday-test.jsonl": everydayTestSHA256, "everyday-holdout.jsonl": everydayHoldoutSHA256})
	tune := tuneSet(t)
	test, err := LoadRetrieval(Data(), "everyday-test.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	holdout, err := LoadRetrieval(Data(), "everyday-holdout.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	seenID, seenQ := map[string]bool{}, map[string]bool{}
	perLang := map[string]int{}
	for _, it := range slices.Concat(tune, test, holdout) {
		if seenID[it.ID] || seenQ[it.Question] {
			t.Errorf("%s: ID or question used twice", it.ID)
		}
		seenID[it.ID], seenQ[it.Question] = true, true
		perLang[it.Lang]++
		for _, g := range it.Gold {
			e, ok := c.Get(g)
			if !ok || e.SupersededBy != "" {
				t.Errorf("%s: gold %s is not a current entry", it.ID, g)
			}
		}
	}
	if n := len(tune) + len(test); n < 300 || len(test) < 100 || perLang["zh"] != perLang["en"] {
		t.Errorf("%d questions (%d in the test split), per language %v: want at least 300, 100 in the test split, half each", n, len(test), perLang)
	}
}

// stores are the fixtures the everyday questions run on: the embedded
// store, and PostgreSQL when a test database is configured.
func stores(t *testing.T) map[string]*corpustest.Fixture {
	t.Helper()
	out := map[string]*corpustest.Fixture{"embedded": corpus(t)}
	url, err := pgtest.NewDatabase("orthocds_evals_everyday")
	switch {
	case err != nil:
		t.Fatal(err)
	case url == "":
		t.Log(pgtest.SkipMessage)
	default:
		f, err := corpustest.OpenPostgres(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Store.Close() })
		out["postgres"] = f
	}
	return out
}

// measure runs items through r at depth k, in batches, and returns
// RetrievalMetrics per language and overall ("all"). With show, items whose
// first gold entry is below rank 3 are logged; the frozen test split is
// measured without, so that nobody tunes on its questions.
func measure(t *testing.T, r *rag.Retriever, items []RetrievalItem, k int, show bool) map[string]map[string]float64 {
	t.Helper()
	return metricsByLang(records(t, r, items, k, show))
}

// records runs items through r at depth k, in batches, and returns their
// records per language and overall ("all").
func records(t *testing.T, r *rag.Retriever, items []RetrievalItem, k int, show bool) map[string][]Record {
	t.Helper()
	per := map[string][]Record{}
	for start := 0; start < len(items); start += rag.MaxBatch {
		part := items[start:min(start+rag.MaxBatch, len(items))]
		qs := make([]rag.Query, len(part))
		for i, it := range part {
			qs[i] = rag.Query{Text: it.Question, K: k}
		}
		res, err := r.Search(context.Background(), qs)
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range part {
			gold := map[string]bool{}
			for _, g := range it.Gold {
				gold[g] = true
			}
			rec := Record{Item: it.ID, Lang: it.Lang, NGold: len(it.Gold), K: k}
			var got []string
			for j, h := range res[i] {
				got = append(got, h.DocID)
				if gold[h.DocID] {
					rec.Hits = append(rec.Hits, j+1)
				}
			}
			if show && (len(rec.Hits) == 0 || rec.Hits[0] > 3) {
				t.Logf("  weak %s [%s] %q: first gold at %v; got %v", it.ID, it.Kind, it.Question, rec.Hits, got[:min(5, len(got))])
			}
			per[it.Lang] = append(per[it.Lang], rec)
			per["all"] = append(per["all"], rec)
		}
	}
	return per
}

func metricsByLang(per map[string][]Record) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for lang, recs := range per {
		out[lang] = RetrievalMetrics(recs)
	}
	return out
}

// Questions in everyday wording (brand names, lay words, abbreviations,
// vignettes, typos, colloquial Chinese) on both stores with the built-in
// embedder: the frozen test split must stay at or above the issue's
// target in each language (MRR@10 0.85 and recall@10 0.95), and the
// held-out split at its first measurement. The tuning split,
// cross-validated, is printed beside them.
func TestEverydayRetrieval(t *testing.T) {
	test, err := LoadRetrieval(Data(), "everyday-test.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	holdout, err := LoadRetrieval(Data(), "everyday-holdout.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cv := crossValidated(t, tuneSet(t), tuneFolds)
	for _, lang := range []string{"all", "en", "zh"} {
		t.Logf("embedded tune (%d-fold cross-validated) %-3s MRR@10=%.3f recall@10=%.3f hit@1=%.3f", tuneFolds, lang,
			cv[lang]["mrr"], cv[lang]["recall@10"], cv[lang]["hit@1"])
	}
	for name, f := range stores(t) {
		for _, split := range []struct {
			name        string
			items       []RetrievalItem
			mrr, recall map[string]float64 // bounds per language; none: printed only
		}{
			{"test", test, map[string]float64{"en": everydayMRR, "zh": everydayMRR}, map[string]float64{"en": everydayRecall, "zh": everydayRecall}},
			{"holdout", holdout, holdoutMRR, holdoutRecall},
		} {
			m := measure(t, f.Retriever, split.items, 10, false)
			for _, lang := range []string{"all", "en", "zh"} {
				t.Logf("%s %s %-3s n=%d MRR@10=%.3f recall@10=%.3f hit@1=%.3f", name, split.name, lang,
					count(split.items, lang), m[lang]["mrr"], m[lang]["recall@10"], m[lang]["hit@1"])
				if m[lang]["mrr"] < split.mrr[lang] || m[lang]["recall@10"] < split.recall[lang] {
					t.Errorf("%s, %s split, %s: MRR@10 %.3f (bound %.2f), recall@10 %.3f (bound %.2f)", name, split.name, lang,
						m[lang]["mrr"], split.mrr[lang], m[lang]["recall@10"], split.recall[lang])
				}
			}
		}
	}
}

func count(items []RetrievalItem, lang string) int {
	n := 0
	for _, it := range items {
		if lang == "all" || it.Lang == lang {
			n++
		}
	}
	return n
}

// Bounds on the frozen test split, both languages. Before the concept
// layer (built-in embedder, both stores alike) the test split measured
// MRR@10 0.567 en / 0.532 zh, recall@10 0.700 / 0.700; the tuning split
// 0.577 / 0.517 and 0.694 / 0.680. With the concept layer, concept
// coverage and the entries' asks it measured MRR@10 0.882 en / 0.868 zh,
// recall@10 0.924 / 0.882; with the topic stage (rag.topicNeighbours) it
// measures MRR@10 0.883 / 0.871, recall@10 0.944 / 0.892. The issue asks
// for 0.85 and 0.95: MRR is held at the bound; recall at what has
// been reached, a little below it, until the work gets there. On
// 2026-12-06, with the held-out splits' words and coverage scaling the
// fused score, it measures MRR@10 0.875 / 0.898, recall@10 0.944 / 0.901
// (Chinese recall had fallen from 0.892 to 0.886 on 2026-12-05, when
// checking Genant 1993 against its abstract corrected an entry a frozen
// question names as gold; the split stays frozen, so its label stays as
// written). After the ninth and tenth held-out splits' words and one-word
// brands kept unstemmed it measures MRR@10 0.886 / 0.898, recall@10 0.936 /
// 0.901; after the eleventh's, 0.936 / 0.896, and with clinical shorthand
// (ALN, TPTD, OP in capitals) 0.932 / 0.896; with names that shrank to one
// word made phrases, MRR@10 0.894 / 0.898, recall@10 0.936 / 0.901; with a
// third round of asks for the entries the tuning split missed most,
// MRR@10 0.907 / 0.907, recall@10 0.942 / 0.906, and with a fifth round
// 0.915 / 0.905 and 0.942 / 0.908. With the tuning split's questions
// expanding the index (guidelines.Asked) it measures MRR@10 0.926 / 0.886,
// recall@10 0.964 / 0.933; with the thirteenth held-out split's questions
// added to them, 0.926 / 0.886 and 0.969 / 0.942; with the fourteenth's
// and a batch on the entries asked about least, 0.910 / 0.876 and 0.975 /
// 0.947; with each asked question's words counted once per entry (the
// fifteenth held-out split measured at first, unread, before that change),
// 0.939 / 0.917 and 0.975 / 0.944; with the fifteenth held-out split's
// questions added, 0.939 / 0.925 and 0.975 / 0.936. With the built-in
// embedder's ranking counting 0.03 instead of 0.1 (chosen on the tuning
// split, cross-validated, and the starter set; embedder.Hash.DenseWeight)
// it measures MRR@10 0.947 / 0.925, recall@10 0.975 / 0.953, and both
// languages are held at the bounds; with Chinese brands confirmed
// from sources for three more drugs (邦罗力, 固力康, 妥塞敏), 0.947 / 0.942
// and 0.975 / 0.969; with the seventeenth and eighteenth held-out splits'
// questions added, 0.947 / 0.942 and 0.975 / 0.978; with the nineteenth's,
// 0.947 / 0.942 and 0.975 / 0.969.
const (
	everydayMRR    = 0.85
	everydayRecall = 0.95
)

// Bounds on the held-out split: its first measurement (2026-12-07), taken
// before anyone read its questions' results, with the twenty-fifth split
// in the tuning split: MRR@10 0.873 en / 0.804 zh, recall@10 1.000 /
// 1.000, on the embedded store. The bounds sit about 0.01 below: one
// question moving a rank is not a fall.
var (
	holdoutMRR    = map[string]float64{"en": 0.86, "zh": 0.79}
	holdoutRecall = map[string]float64{"en": 0.99, "zh": 0.99}
)

// The bundled starter set must not lose more than 0.01 of any figure to the
// everyday-wording work. Baseline measured on both stores before it.
func TestStarterHoldsUp(t *testing.T) {
	items, err := LoadRetrieval(Data(), "retrieval-starter.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range stores(t) {
		m := measure(t, f.Retriever, items, 10, true)
		for _, lang := range []string{"all", "en", "zh"} {
			t.Logf("%s starter %-3s MRR@10=%.3f recall@10=%.3f hit@1=%.3f", name, lang, m[lang]["mrr"], m[lang]["recall@10"], m[lang]["hit@1"])
		}
		for metric, base := range starterBaseline {
			if got := m["all"][metric]; got < base-0.01 {
				t.Errorf("%s starter %s %.3f, baseline %.3f: dropped by more than 0.01", name, metric, got, base)
			}
		}
	}
}

// starterBaseline is the starter set on the embedded store before the
// everyday-wording work (PostgreSQL matched it to 0.001).
var starterBaseline = map[string]float64{"mrr": 0.858, "recall@10": 0.906, "hit@1": 0.787}

// checkFrozen fails t when a frozen split's file no longer has the SHA-256
// it was frozen with; additions go to the tuning file instead.
func checkFrozen(t *testing.T, tuning string, frozen map[string]string) {
	t.Helper()
	for name, want := range frozen {
		b, err := fs.ReadFile(Data(), name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s changed (sha256 %s): the split is frozen; add to %s instead", name, got, tuning)
		}
	}
}

// everydayTune is the everyday-wording set's tuning split. It lives with
// the corpus, not here: its questions expand the index terms of the
// entries they name as gold (guidelines.Asked).
const everydayTune = guidelines.AskedDir + "/everyday.jsonl"

func tuneSet(t *testing.T) []RetrievalItem {
	t.Helper()
	items, err := LoadRetrieval(guidelines.Embedded(), everydayTune)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// tuneFolds is how many parts the tuning split is cut into for
// cross-validation.
const tuneFolds = 5

// crossValidated measures the tuning split, whose questions are in the
// index, as if they were not: the split is cut into folds, and each fold
// is searched against an index built with the other folds' questions
// only. The two questions of a pair (an English and a Chinese ID with
// the same number, often the same question in both languages) fall in the
// same fold, so that no question is helped by its own translation. Misses
// are logged.
func crossValidated(t *testing.T, items []RetrievalItem, folds int) map[string]map[string]float64 {
	t.Helper()
	fold := func(it RetrievalItem) int {
		sum := sha256.Sum256([]byte(pairKey(it.ID)))
		return int(sum[0]) % folds
	}
	all := map[string][]Record{}
	for i := range folds {
		var in, out []RetrievalItem
		for _, it := range items {
			if fold(it) == i {
				out = append(out, it)
			} else {
				in = append(in, it)
			}
		}
		f, err := corpustest.OpenFS(t.TempDir(), withAsked(t, in))
		if err != nil {
			t.Fatal(err)
		}
		for lang, recs := range records(t, f.Retriever, out, 10, true) {
			all[lang] = append(all[lang], recs...)
		}
		f.Store.Close()
	}
	return metricsByLang(all)
}

// withAsked is the shipped corpus with items as its only labelled
// questions.
func withAsked(t *testing.T, items []RetrievalItem) fs.FS {
	t.Helper()
	var b bytes.Buffer
	for _, it := range items {
		line, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	fsys, err := corpustest.WithAsked(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// pairKey names the pair an everyday question belongs to: the English and
// Chinese questions were written in pairs with the same number (n012 and
// q012, e012 and z012, d012 and y012, a012 and b012).
func pairKey(id string) string {
	if id == "" {
		return id
	}
	if p, ok := map[byte]byte{'q': 'n', 'z': 'e', 'y': 'd', 'b': 'a'}[id[0]]; ok {
		return string(p) + id[1:]
	}
	return id
}
