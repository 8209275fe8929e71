// Package guidelines holds the OrthoCDS guideline corpus: recommendation-
// level entries in Chinese and English, each with its source, section and
// evidence grade, one YAML file per source guideline under data/. Files are
// validated when loaded; a bad file is refused with its name and the field
// at fault.
package guidelines

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/orthocds/orthocds/internal/yamlx"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

//go:embed data/*.yaml data/asks/*.yaml data/asked/*.jsonl
var embedded embed.FS

// Embedded returns the corpus shipped in the binary.
func Embedded() fs.FS {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

// Text is a string in both languages.
type Text struct {
	EN string `yaml:"en" json:"en"`
	ZH string `yaml:"zh" json:"zh"`
}

// Source describes one guideline document; every entry of a file shares it.
type Source struct {
	Key       string `yaml:"key" json:"key"`   // short name used by filters, e.g. "ACCP"
	Body      string `yaml:"body" json:"body"` // issuing body
	Title     string `yaml:"title" json:"title"`
	Year      int    `yaml:"year" json:"year"`
	Reference string `yaml:"reference" json:"reference"` // journal citation
	DOI       string `yaml:"doi" json:"doi,omitempty"`
	URL       string `yaml:"url" json:"url,omitempty"`
	// Grading explains the source's own grading scheme in the project's words.
	Grading string `yaml:"grading" json:"grading"`
	// Unverified says why this source's entries without a verification
	// record have none (e.g. the full text is not reachable); empty means
	// they have not been checked yet.
	Unverified string `yaml:"unverified" json:"unverified,omitempty"`
}

// Grade statuses.
const (
	// GradeStated: evidence and/or strength copied exactly as the source states them.
	GradeStated = "stated"
	// GradeNotGraded: the source gives no grade for this statement (a
	// definition, a threshold, a study finding).
	GradeNotGraded = "not-graded"
	// GradeNotVerified: the source grades it, but the project has not yet
	// checked the grade against the full text, so none is shown.
	GradeNotVerified = "not-verified"
)

// Grade is the evidence grade and strength as the source states them.
type Grade struct {
	Status   string `yaml:"status" json:"status"`
	Evidence string `yaml:"evidence" json:"evidence,omitempty"`
	Strength string `yaml:"strength" json:"strength,omitempty"`
	Note     string `yaml:"note" json:"note,omitempty"`
}

// Entry is one recommendation.
type Entry struct {
	ID           string   `yaml:"id" json:"id"`
	Section      string   `yaml:"section" json:"section"`
	Domain       string   `yaml:"domain" json:"domain"`
	Topics       []string `yaml:"topics" json:"topics"`
	Population   Text     `yaml:"population" json:"population"`
	Title        Text     `yaml:"title" json:"title"`
	Text         Text     `yaml:"text" json:"text"`
	Grade        Grade    `yaml:"grade" json:"grade"`
	Supersedes   []string `yaml:"supersedes" json:"supersedes,omitempty"`
	SupersededBy string   `yaml:"superseded_by" json:"superseded_by,omitempty"`
	// Verified records where the entry was checked against its source; a
	// stated grade needs one.
	Verified *Verification `yaml:"verified" json:"verified,omitempty"`
	Source   Source        `yaml:"-" json:"source"`
	File     string        `yaml:"-" json:"file"`
	// Asks are everyday wordings of what the entry answers (asks/*.yaml):
	// indexed with the entry, never shown as its text.
	Asks Asks `yaml:"-" json:"asks,omitzero"`
	// Asked are the labelled questions the entry answers (asked/*.jsonl):
	// its lexical index terms, never shown.
	Asked Asks `yaml:"-" json:"asked,omitzero"`
}

// Asks are the wordings of one entry per language.
type Asks struct {
	EN []string `yaml:"en" json:"en,omitempty"`
	ZH []string `yaml:"zh" json:"zh,omitempty"`
}

// AsksFile is the layout of one asks/*.yaml file: entry ID -> wordings.
type AsksFile struct {
	Asks map[string]Asks `yaml:"asks"`
}

// File is the layout of one YAML file.
type File struct {
	Source  Source  `yaml:"source"`
	Entries []Entry `yaml:"entries"`
}

// Domains are the clinical areas the corpus covers.
var Domains = []string{"osteoporosis", "vte", "ovcf", "dcm"}

// Corpus is a validated set of entries.
type Corpus struct {
	Entries []Entry
	byID    map[string]int
}

// Get returns an entry by ID.
func (c *Corpus) Get(id string) (Entry, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Entry{}, false
	}
	return c.Entries[i], true
}

// Documents returns every entry as the document the stores hold.
func (c *Corpus) Documents() []rag.Document {
	docs := make([]rag.Document, len(c.Entries))
	for i := range c.Entries {
		docs[i] = c.Entries[i].Document()
	}
	return docs
}

// Load reads and validates every *.yaml file of fsys. The first bad file
// stops the load; its error names the file and the field.
func Load(fsys fs.FS) (*Corpus, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	c := &Corpus{byID: map[string]int{}}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		entries, err := Parse(name, b)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if _, dup := c.byID[e.ID]; dup {
				return nil, fileError(name, "entries["+e.ID+"].id", "duplicate entry ID (also in another file)")
			}
			c.byID[e.ID] = len(c.Entries)
			c.Entries = append(c.Entries, e)
		}
	}
	if err := c.checkLinks(); err != nil {
		return nil, err
	}
	if err := c.loadAsks(fsys); err != nil {
		return nil, err
	}
	if err := c.loadAsked(fsys); err != nil {
		return nil, err
	}
	return c, nil
}

// MaxAsks bounds the wordings of one entry per language, and
// maxAskLen (characters) each one: they are questions, not text.
const (
	MaxAsks   = 5
	maxAskLen = 200
)

// loadAsks reads asks/*.yaml, if fsys has it, onto the entries they name.
// An unknown or superseded entry, an empty or overlong wording, an English
// one in Chinese characters or a Chinese one without them is an error
// naming the file and the field.
func (c *Corpus) loadAsks(fsys fs.FS) error {
	names, err := fs.Glob(fsys, "asks/*.yaml")
	if err != nil {
		return err
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		var f AsksFile
		if err := yamlx.UnmarshalStrict(b, &f); err != nil {
			return &orthocds.Error{Code: orthocds.EINVALID, Field: name, Message: "cannot decode: " + oneLine(err.Error())}
		}
		ids := make([]string, 0, len(f.Asks))
		for id := range f.Asks {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			field := "asks." + id
			i, ok := c.byID[id]
			switch {
			case !ok:
				return fileError(name, field, "no entry has this ID")
			case c.Entries[i].SupersededBy != "":
				return fileError(name, field, "the entry is superseded; ask about the entry that replaces it")
			case seen[id] != "":
				return fileError(name, field, "the entry's wordings are already in "+seen[id])
			}
			seen[id] = name
			a := f.Asks[id]
			if len(a.EN)+len(a.ZH) == 0 {
				return fileError(name, field, "give at least one wording")
			}
			for lang, list := range map[string][]string{"en": a.EN, "zh": a.ZH} {
				if len(list) > MaxAsks {
					return fileError(name, field+"."+lang, fmt.Sprintf("%d wordings; at most %d", len(list), MaxAsks))
				}
				for j, q := range list {
					if msg := checkWording(lang, q); msg != "" {
						return fileError(name, fmt.Sprintf("%s.%s[%d]", field, lang, j), msg)
					}
				}
			}
			c.Entries[i].Asks = a
		}
	}
	return nil
}

// checkWording says what is wrong with one everyday wording in lang, or
// returns "".
func checkWording(lang, q string) string {
	switch n := len([]rune(q)); {
	case lang != "zh" && lang != "en":
		return fmt.Sprintf("unknown language %q; use zh or en", lang)
	case strings.TrimSpace(q) == "":
		return "must not be empty"
	case n > maxAskLen:
		return fmt.Sprintf("%d characters; at most %d", n, maxAskLen)
	case lang == "zh" && !hanRe.MatchString(q):
		return "a Chinese wording has no Chinese characters"
	case lang == "en" && hanRe.MatchString(q):
		return "an English wording has Chinese characters"
	}
	return ""
}

var hanRe = regexp.MustCompile(`\p{Han}`)

func fileError(file, field, msg string) error {
	return &orthocds.Error{Code: orthocds.EINVALID, Field: file + ": " + field, Message: msg}
}

// Parse decodes and validates one file. Unknown fields are errors.
func Parse(name string, b []byte) ([]Entry, error) {
	var f File
	if err := yamlx.UnmarshalStrict(b, &f); err != nil {
		return nil, &orthocds.Error{Code: orthocds.EINVALID, Field: name,
			Message: "cannot decode: " + oneLine(err.Error())}
	}
	if err := f.validate(); err != nil {
		return nil, fileError(name, err.field, err.msg)
	}
	for i := range f.Entries {
		f.Entries[i].Source, f.Entries[i].File = f.Source, name
	}
	return f.Entries, nil
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type fieldErr struct{ field, msg string }

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)

func (f *File) validate() *fieldErr {
	s := f.Source
	for field, v := range map[string]string{"source.key": s.Key, "source.body": s.Body,
		"source.title": s.Title, "source.reference": s.Reference, "source.grading": s.Grading} {
		if strings.TrimSpace(v) == "" {
			return &fieldErr{field, "is required"}
		}
	}
	if s.Year < 1980 || s.Year > 2100 {
		return &fieldErr{"source.year", fmt.Sprintf("%d is not a plausible publication year", s.Year)}
	}
	if s.DOI == "" && s.URL == "" {
		return &fieldErr{"source.doi", "a DOI or a URL is required"}
	}
	if len(f.Entries) == 0 {
		return &fieldErr{"entries", "at least one entry is required"}
	}
	for i, e := range f.Entries {
		if err := e.validate(); err != nil {
			label := fmt.Sprintf("entries[%d]", i)
			if e.ID != "" {
				label = fmt.Sprintf("entries[%d] (%s)", i, e.ID)
			}
			return &fieldErr{label + "." + err.field, err.msg}
		}
	}
	return nil
}

func (e *Entry) validate() *fieldErr {
	if !idPattern.MatchString(e.ID) {
		return &fieldErr{"id", fmt.Sprintf("%q must be lower-case letters, digits, dots and hyphens", e.ID)}
	}
	if strings.TrimSpace(e.Section) == "" {
		return &fieldErr{"section", "is required (section or recommendation number in the source)"}
	}
	if !contains(Domains, e.Domain) {
		return &fieldErr{"domain", fmt.Sprintf("%q is not one of %s", e.Domain, strings.Join(Domains, ", "))}
	}
	if len(e.Topics) == 0 {
		return &fieldErr{"topics", "at least one topic is required"}
	}
	for field, t := range map[string]Text{"title": e.Title, "text": e.Text, "population": e.Population} {
		if strings.TrimSpace(t.EN) == "" {
			return &fieldErr{field + ".en", "is required"}
		}
		if strings.TrimSpace(t.ZH) == "" {
			return &fieldErr{field + ".zh", "is required"}
		}
	}
	switch e.Grade.Status {
	case GradeStated:
		if e.Grade.Evidence == "" && e.Grade.Strength == "" {
			return &fieldErr{"grade", "a stated grade needs evidence or strength"}
		}
		if e.Verified == nil {
			return &fieldErr{"verified", "a stated grade needs a verification record (where it was checked, the grade as the source gives it, every number traced)"}
		}
	case GradeNotVerified:
		if e.Verified != nil {
			return &fieldErr{"grade.status", "a verified entry is stated (the source grades it) or not-graded (it does not), never not-verified"}
		}
		fallthrough
	case GradeNotGraded:
		if e.Grade.Evidence != "" || e.Grade.Strength != "" {
			return &fieldErr{"grade", "only a stated grade carries evidence or strength"}
		}
		if e.Grade.Note == "" {
			return &fieldErr{"grade.note", "say why there is no grade"}
		}
	default:
		return &fieldErr{"grade.status", fmt.Sprintf("%q is not one of stated, not-graded, not-verified", e.Grade.Status)}
	}
	if e.Verified != nil {
		if err := e.Verified.validate(e); err != nil {
			return &fieldErr{"verified." + err.field, err.msg}
		}
	}
	return nil
}

// checkLinks makes supersedes and superseded_by point at real entries and
// agree with each other.
func (c *Corpus) checkLinks() error {
	for _, e := range c.Entries {
		if e.SupersededBy != "" {
			n, ok := c.Get(e.SupersededBy)
			if !ok {
				return fileError(e.File, "entries["+e.ID+"].superseded_by", fmt.Sprintf("unknown entry %q", e.SupersededBy))
			}
			if !contains(n.Supersedes, e.ID) {
				return fileError(e.File, "entries["+e.ID+"].superseded_by",
					fmt.Sprintf("%s does not list %s in supersedes", n.ID, e.ID))
			}
		}
		for _, old := range e.Supersedes {
			o, ok := c.Get(old)
			if !ok {
				return fileError(e.File, "entries["+e.ID+"].supersedes", fmt.Sprintf("unknown entry %q", old))
			}
			if o.SupersededBy != e.ID {
				return fileError(e.File, "entries["+e.ID+"].supersedes",
					fmt.Sprintf("%s does not name %s in superseded_by", old, e.ID))
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Citation is the source reference shown with a hit.
func (e *Entry) Citation() rag.Citation {
	c := rag.Citation{Body: e.Source.Body, Guideline: e.Source.Title, Year: e.Source.Year,
		Section: e.Section, DOI: e.Source.DOI, URL: e.Source.URL}
	switch e.Grade.Status {
	case GradeStated:
		c.Evidence, c.Strength = e.Grade.Evidence, e.Grade.Strength
	default:
		c.GradeNote = e.Grade.Note
	}
	c.Grade, c.GradeZH = e.GradeLabel("en"), e.GradeLabel("zh")
	return c
}

// Document turns an entry into the one-chunk document the stores hold. The
// chunk carries both languages so that a question in either finds it, and
// names its source so that a question naming the guideline finds it too.
func (e *Entry) Document() rag.Document {
	text := e.Title.EN + "\n" + e.Text.EN + "\nPopulation: " + e.Population.EN + "\n\n" +
		e.Title.ZH + "\n" + e.Text.ZH + "\n适用人群：" + e.Population.ZH +
		"\n\nSource / 来源: " + e.Source.Key + " " + strconv.Itoa(e.Source.Year) + ", " + e.Source.Body
	// The hash covers the entry (with its source: a new source year is a
	// new version) and the citation stored beside the chunk, so that a
	// change in how citations are built (a grade label, say) re-indexes
	// stores built before it.
	cite := e.Citation()
	b, _ := json.Marshal(struct {
		Entry    *Entry
		Citation rag.Citation
	}{e, cite})
	sum := sha256.Sum256(b)
	return rag.Document{
		ID: e.ID, Kind: rag.KindGuideline, Title: e.Title.EN, Source: "guideline:" + e.ID,
		Hash: hex.EncodeToString(sum[:]),
		Chunks: []rag.Chunk{{
			ID: e.ID, DocID: e.ID, Kind: rag.KindGuideline, Langs: []string{"en", "zh"},
			Title: e.Title.EN + " / " + e.Title.ZH, Text: text, Asks: append(slices.Clone(e.Asks.EN), e.Asks.ZH...),
			Asked:       append(slices.Clone(e.Asked.EN), e.Asked.ZH...),
			HeadingPath: []string{e.Source.Title, e.Section},
			Topics:      append([]string{e.Domain}, e.Topics...), Year: e.Source.Year,
			SourceKey: e.Source.Key, Superseded: e.SupersededBy != "", Citation: cite,
		}},
	}
}

// Version identifies the corpus's content: it changes when any entry or
// source changes, so evaluation runs record which corpus they measured.
func (c *Corpus) Version() string {
	h := sha256.New()
	for i := range c.Entries {
		h.Write([]byte(c.Entries[i].Document().Hash))
	}
	return fmt.Sprintf("%d entries, %s", len(c.Entries), hex.EncodeToString(h.Sum(nil))[:12])
}
